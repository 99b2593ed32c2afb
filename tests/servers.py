"""Real servers on loopback for network tests: the demo's own DNS server and uvicorn helpers."""

from launch_gate.demo.dns import DnsServer, Zone
from launch_gate.demo.serve import http_server, tls_server

__all__ = ["DnsServer", "Zone", "http_server", "tls_server"]
