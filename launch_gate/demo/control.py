"""`launch-gate demo --serve [--fault-control]`: the demo kept running, and its faults switched while it runs.

The control endpoint listens on 127.0.0.1 only: `GET /faults` lists what is on and what can be switched,
`POST /faults/<name>` switches a fault on, `DELETE /faults/<name>` off. The site's faults (edge, app,
security) are a set the running app reads on every request, so switching is a change to that set; the DNS
server's failure modes (`dns-servfail`, `dns-timeout`) switch the same way. Faults baked into the zone or the
certificates at start (`no-dmarc`, `expired-cert`, ...) are given with `--fault` instead.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType

from launch_gate.demo import APP_FAULTS, EDGE_FAULTS, FAULTS, SECURITY_FAULTS, Demo, running

DNS_MODES = {"dns-servfail": "servfail", "dns-timeout": "drop"}
SWITCHABLE = frozenset((EDGE_FAULTS | APP_FAULTS | SECURITY_FAULTS | set(DNS_MODES)) & FAULTS)


class FaultSwitch:
    """The running demo's switchable faults."""

    def __init__(self, demo: Demo) -> None:
        self.demo = demo
        self.lock = threading.Lock()

    def on(self) -> list[str]:
        dns = [f for f, mode in DNS_MODES.items() if self.demo.dns is not None and self.demo.dns.mode == mode]
        return sorted({*self.demo.site.faults, *dns})

    def switch(self, name: str, wanted: bool) -> tuple[int, str]:
        """(HTTP status, sentence)."""
        if name not in FAULTS:
            return 404, f"unknown fault {name!r}; switchable: {', '.join(sorted(SWITCHABLE))}"
        if name not in SWITCHABLE:
            return 409, f"{name} is set at start only: launch-gate demo --serve --fault {name}"
        with self.lock:
            if name in DNS_MODES and self.demo.dns is not None:
                self.demo.dns.mode = DNS_MODES[name] if wanted else "answer"
            elif wanted:
                self.demo.site.faults.add(name)
            else:
                self.demo.site.faults.discard(name)
        return 200, f"{name} {'on' if wanted else 'off'}"


def _handler(switch: FaultSwitch) -> type[BaseHTTPRequestHandler]:
    class Control(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/") != "/faults":
                return self._answer(404, {"error": "GET /faults, POST or DELETE /faults/<name>"})
            self._answer(200, {"on": switch.on(), "switchable": sorted(SWITCHABLE)})

        def _switch(self, wanted: bool) -> None:
            prefix, _, name = self.path.partition("/faults/")
            if prefix or not name:
                return self._answer(404, {"error": "POST or DELETE /faults/<name>"})
            status, message = switch.switch(name, wanted)
            self._answer(status, {"message": message, "on": switch.on()})

        def do_POST(self) -> None:
            self._switch(True)

        def do_DELETE(self) -> None:
            self._switch(False)

        def log_message(self, format: str, *args: object) -> None:
            return None

    return Control


@contextmanager
def control_server(demo: Demo, port: int = 0) -> Iterator[int]:
    """The control endpoint on 127.0.0.1; yields its port."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(FaultSwitch(demo)))
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="demo-control")
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def _wait_for_signal() -> None:
    """Block until SIGINT or SIGTERM."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


WATCH_TABLE = """
# Added by launch-gate demo --serve: what `launch-gate watch` runs against the demo (docs/watch.md).
[watch]
interval = 10                      # seconds; 60 for a real deployment
checks = ["domain.redirects", "latency.home", "smoke.login"]
"""


def serve(faults: Iterable[str], fault_control: bool) -> int:
    """Run the demo until SIGINT/SIGTERM, printing its configuration (and the control endpoint)."""
    with running(faults) as demo:
        with demo.config.open("a", encoding="utf-8") as config:
            config.write(WATCH_TABLE)
        print(f"The demo deployment of {demo.target} runs on 127.0.0.1 (DNS, SMTP, http and https).")
        print(f"Its configuration, {demo.config}:\n")
        print(demo.config.read_text(encoding="utf-8"))
        print(f"Gate it:  launch-gate check --phase post --config {demo.config}")
        print(f"Watch it: launch-gate watch --config {demo.config}")
        with control_server(demo) if fault_control else _nothing() as port:
            if port is not None:
                base = f"http://127.0.0.1:{port}/faults"
                print(f"Fault control: {base}")
                print(f"  curl -X POST {base}/home-500     # the home page answers 500")
                print(f"  curl -X DELETE {base}/home-500   # and recovers")
                print(f"  curl {base}                      # what is on, what can be switched")
            print("Ctrl-C stops the demo.", flush=True)
            _wait_for_signal()
    print("Stopped the demo deployment.")
    return 0


@contextmanager
def _nothing() -> Iterator[int | None]:
    yield None
