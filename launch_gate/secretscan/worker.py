"""A scanning worker process: one JSON job per line on stdin, one JSON ScanReport per line on stdout.

Plain subprocesses (not multiprocessing), so nothing depends on how the caller's main module is guarded; the
parent feeds each worker small batches as it finishes the last, so slow files do not leave a core idle.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

from launch_gate.secretscan.engine import scan_batch


def main() -> None:
    for line in sys.stdin:
        job = json.loads(line)
        report = scan_batch([tuple(pair) for pair in job["files"]], job["bundle"], job["max_bytes"])
        sys.stdout.write(json.dumps(asdict(report)) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
