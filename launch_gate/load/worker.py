"""The load run's child process: `python -m launch_gate.load.worker SPEC OUT --role local|master|worker`.

Locust monkey-patches the process it is imported in with gevent, which the gate's own process (httpx,
asyncio, pytest, the demo's servers) must never see; so `launch_gate.load.runner` starts this module as a
process of its own, and only here is Locust imported (by `launch_gate.load.locust_run`).
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    # gevent removes select.epoll, which trio (when installed) needs at import; httpcore imports trio if it
    # can and does without it when the import fails.
    sys.modules.setdefault("trio", None)  # type: ignore[arg-type]
    import locust  # noqa: F401  (first: gevent patches sockets and ssl before anything opens one)

    from launch_gate.load.locust_run import main as run

    return run(argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
