"""The edge the domain, headers and exposure tests share: the demo's site over http and https on loopback."""

from collections.abc import Iterator

import pytest

from launch_gate.demo.site import APEX, CANONICAL, Edge
from tests.conftest import run_check
from tests.servers import http_server, tls_server


@pytest.fixture
def edge(tmp_path) -> Iterator[tuple[Edge, str]]:
    app = Edge()
    with http_server(app) as plain, tls_server(app, [CANONICAL, APEX], tmp_path) as (tls, ca):
        routes = ", ".join(
            f'"{h}:{p}:127.0.0.1:{to}"' for h in (CANONICAL, APEX) for p, to in ((80, plain), (443, tls))
        )
        yield (
            app,
            f'target = "https://{CANONICAL}/"\n[net]\nconnect-to = [{routes}]\nca-bundle = "{ca}"\nprobe-timeout = 3\n',
        )


# The target and its twin routed to a port nothing listens on, over http and https.
UNREACHABLE = (
    f'target = "https://{CANONICAL}/"\n[net]\nconnect-to = ['
    + ", ".join(f'"{h}:{p}:127.0.0.1:9"' for h in (CANONICAL, APEX) for p in (80, 443))
    + "]\nprobe-timeout = 2\n"
)


def check(project, config: str, check_id: str):
    return run_check(project({"launch-gate.toml": config}), check_id)
