"""Throwaway identities for smoke flows: a unique address (plus-tag or catch-all) and a strong password."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from launch_gate.config.schema import SmokeTable
from launch_gate.errors import ConfigError


@dataclass(frozen=True)
class Identity:
    """A user that exists for one flow or test; its password never shows in a repr."""

    email: str
    password: str
    tag: str

    def __repr__(self) -> str:
        return f"Identity(email={self.email!r}, password=[hidden])"


def new_identity(smoke: SmokeTable) -> Identity:
    """`lg-<time>-<random>` as the plus-tag of `plus-address` or the local part at `catch-all-domain`."""
    tag = f"lg-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{secrets.token_hex(3)}"
    # Mixed case, digits and symbols: passes the password rules sign-up forms commonly enforce.
    password = f"Lg-{secrets.token_urlsafe(18)}-9a!"
    if smoke.plus_address:
        local, _, domain = smoke.plus_address.partition("@")
        return Identity(f"{local}+{tag}@{domain}", password, tag)
    if smoke.catch_all_domain:
        return Identity(f"{tag}@{smoke.catch_all_domain}", password, tag)
    raise ConfigError(
        "a throwaway user needs an address: set [smoke] plus-address (e.g. qa@yourapp.com, whose mail "
        "server accepts qa+tag@) or catch-all-domain (a domain whose every address reaches one inbox)"
    )
