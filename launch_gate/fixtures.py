"""Objects the plugin's fixtures hand to users' tests (imported only when a test asks for one)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest


class GateEnv(Mapping[str, str]):
    """The environment the gate checks, read-only; `require` fails a test without ever showing a value."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = dict(environ)

    def __getitem__(self, name: str) -> str:
        return self._environ[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._environ)

    def __len__(self) -> int:
        return len(self._environ)

    def __repr__(self) -> str:
        return f"GateEnv({len(self)} variables, values hidden)"

    def require(self, name: str) -> str:
        """The value of `name`; fails the test (naming the variable only) when it is unset or empty."""
        __tracebackhide__ = True
        value = self._environ.get(name, "")
        if not value.strip():
            pytest.fail(
                f"environment variable {name} is not set (or empty); set it for this deploy.", pytrace=False
            )
        return value
