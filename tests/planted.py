"""Secrets for tests, made at run time so that no secret-shaped literal is ever committed to this repository."""

from __future__ import annotations

import base64
import json
import random
import string
from dataclasses import dataclass

ALNUM = string.ascii_letters + string.digits


def _pick(rng: random.Random, alphabet: str, size: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(size))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Planted:
    aws_key_id: str
    aws_secret: str
    stripe_live: str
    jwt: str
    private_key: str
    env_password: str

    @classmethod
    def make(cls, seed: int = 7) -> Planted:
        rng = random.Random(seed)
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = _b64(json.dumps({"sub": _pick(rng, ALNUM, 12), "admin": True}).encode())
        body = "\n".join(_pick(rng, ALNUM + "+/", 64) for _ in range(8))
        return cls(
            aws_key_id="AKIA" + _pick(rng, string.ascii_uppercase + string.digits, 16),
            aws_secret=_pick(rng, ALNUM + "/+", 40),
            stripe_live="sk_" + "live_" + _pick(rng, ALNUM, 24),
            jwt=f"{header}.{payload}.{_b64(rng.randbytes(32))}",
            private_key="-----BEGIN RSA "
            + "PRIVATE KEY-----\n"
            + body
            + "\n-----END RSA "
            + "PRIVATE KEY-----\n",
            env_password=_pick(rng, ALNUM + "-_", 32),
        )

    def values(self) -> list[str]:
        """Every secret value, and each private-key line, as they must never appear in any output."""
        return [self.aws_key_id, self.aws_secret, self.stripe_live, self.jwt, self.env_password] + [
            line for line in self.private_key.splitlines() if "PRIVATE KEY" not in line
        ]

    def files(self) -> dict[str, str]:
        """A small app that committed all of them by mistake."""
        return {
            "app/settings.py": (
                "import os\n\n"
                f'AWS_ACCESS_KEY_ID = "{self.aws_key_id}"\n'
                f'aws_secret_access_key = "{self.aws_secret}"\n'
                f'STRIPE_KEY = "{self.stripe_live}"\n'
            ),
            "app/auth.py": f'ADMIN_TOKEN = "{self.jwt}"\n',
            "deploy/id_rsa": self.private_key,
            ".env": f"DEBUG=false\nDB_PASSWORD={self.env_password}\n",
        }


EXPECTED_TYPES = {
    "app/settings.py": {"AWS Access Key", "Stripe Access Key", "Secret Keyword"},
    "app/auth.py": {"JSON Web Token"},
    "deploy/id_rsa": {"Private Key"},
    ".env": {"Secret Keyword"},
}
