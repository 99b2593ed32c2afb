"""The demo's web side: an edge (as a CDN would be) in front of a small marketplace app.

Edge: apex -> www and http -> https redirects, HSTS and security headers, cacheable static assets. App:
signup, login (bearer tokens), coach profiles and search, bookings, a health endpoint, and transactional
email (signup and booking confirmations). Each misconfiguration is a word in `faults`.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

CANONICAL = "www.example.test"
APEX = "example.test"
GOOD_HEADERS = {
    "strict-transport-security": "max-age=63072000; includeSubDomains; preload",
    "content-security-policy": "default-src 'self'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
}
COACHES = [
    {"id": 1, "name": "Ada Brooks", "topic": "career coaching", "city": "Leeds"},
    {"id": 2, "name": "Sam Okafor", "topic": "yoga", "city": "Bristol"},
    {"id": 3, "name": "Lena Vogel", "topic": "startup mentoring", "city": "Berlin"},
]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Mailer = Callable[[str, str, str], Awaitable[None]]  # to, subject, body


async def _no_mail(to: str, subject: str, body: str) -> None:
    return None


@dataclass
class Edge:
    """The whole site as one ASGI app; `faults` switches misconfigurations on."""

    faults: set[str] = field(default_factory=set)
    mailer: Mailer = _no_mail
    users: dict[str, str] = field(default_factory=dict)  # email -> password
    tokens: dict[str, str] = field(default_factory=dict)  # token -> email
    bookings: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (scheme, host, path) served
    delay: float = 0.0  # seconds added to every response, as a slow origin would

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        host = headers.get("host", "").split(":")[0]
        path = scope["path"] + (f"?{scope['query_string'].decode()}" if scope["query_string"] else "")
        self.requests.append((scope["scheme"], host, scope["path"]))
        if self.delay:
            await asyncio.sleep(self.delay)
        location = self.redirect(scope["scheme"], host, path)
        if location is not None:
            status = 302 if "temporary-redirect" in self.faults else 301
            await self.respond(send, status, b"", {"location": location})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await self.route(send, scope["method"], scope["path"], headers, body)

    def redirect(self, scheme: str, host: str, path: str) -> str | None:
        if "loop" in self.faults and scheme == "https":
            return f"https://{APEX if host == CANONICAL else CANONICAL}{path}"
        if scheme == "http":
            if "http-skips-https" in self.faults:
                return f"http://{CANONICAL}{path}" if host != CANONICAL else None
            return f"https://{host}{path}"
        if host != CANONICAL:
            return f"https://{CANONICAL}{'' if 'drop-path' in self.faults else path}"
        return None

    def headers(self) -> dict[str, str]:
        extra = dict(GOOD_HEADERS)
        if "no-hsts" in self.faults:
            del extra["strict-transport-security"]
        if "weak-hsts" in self.faults:
            extra["strict-transport-security"] = "max-age=300"
        if "no-csp" in self.faults:
            del extra["content-security-policy"]
        return extra

    async def route(self, send: Send, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        extra = self.headers()
        origin = headers.get("origin")
        if origin and "cors-reflect" in self.faults:
            extra |= {"access-control-allow-origin": origin, "access-control-allow-credentials": "true"}
        elif origin == f"https://{CANONICAL}":
            extra["access-control-allow-origin"] = origin
        if path == "/.env" and "exposed-env" in self.faults:
            return await self.respond(send, 200, b"DATABASE_URL=postgres://app@db/app\nDEBUG=true\n", extra)
        if path == "/.git/config" and "exposed-git" in self.faults:
            return await self.respond(send, 200, b"[core]\n\trepositoryformatversion = 0\n", extra)
        if path == "/" or path.startswith("/launch-gate-probe"):
            cookie = "session=anonymous; Path=/" + (
                "" if "insecure-cookie" in self.faults else "; Secure; HttpOnly; SameSite=Lax"
            )
            page = b'<html><head><script src="/static/app.js"></script></head><body><h1>Coachly</h1></body></html>'
            page_cache = (
                "public, max-age=600" if "public-session-cache" in self.faults else "private, no-cache"
            )
            return await self.respond(
                send, 200, page, {**extra, "set-cookie": cookie, "cache-control": page_cache}
            )
        if path == "/static/app.js":
            cache = {
                "cache-control": "no-store"
                if "no-cache-headers" in self.faults
                else "public, max-age=31536000, immutable"
            }
            return await self.respond(
                send, 200, b"console.log('coachly')", {**extra, **cache}, "text/javascript"
            )
        if path.startswith("/api/") or path == "/health":
            return await self.api(send, method, path, headers, body, extra)
        page = b"<h1>Not found</h1>"
        if "stack-trace" in self.faults:
            page += (
                b'<pre>Traceback (most recent call last):\n  File "app/views.py", line 42, in profile</pre>'
            )
        return await self.respond(send, 404, page, extra)

    async def api(
        self, send: Send, method: str, path: str, headers: dict[str, str], body: bytes, extra: dict[str, str]
    ) -> None:
        async def reply(status: int, data: object) -> None:
            await self.respond(send, status, json.dumps(data).encode(), extra, "application/json")

        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            return await reply(400, {"error": "invalid JSON"})
        user = self.tokens.get(headers.get("authorization", "").removeprefix("Bearer "))
        if path == "/health":
            return await reply(200, {"status": "ok"})
        if (method, path) == ("POST", "/api/signup"):
            email, password = str(payload.get("email", "")), str(payload.get("password", ""))
            if "@" not in email or len(password) < 8:
                return await reply(422, {"error": "an email and a password of 8+ characters"})
            self.users[email] = password
            await self.mailer(
                email, "Confirm your Coachly account", f"Welcome! Confirm at https://{CANONICAL}/confirm"
            )
            return await reply(201, {"email": email})
        if (method, path) == ("POST", "/api/login"):
            if self.users.get(str(payload.get("email"))) != payload.get("password"):
                return await reply(401, {"error": "wrong email or password"})
            token = secrets.token_urlsafe(24)
            self.tokens[token] = str(payload["email"])
            return await reply(200, {"token": token})
        if (method, path) == ("GET", "/api/coaches"):
            return await reply(200, COACHES)
        if (method, path) == ("POST", "/api/bookings"):
            if user is None:
                return await reply(401, {"error": "log in first"})
            number = len(self.bookings) + 1
            booking = {"id": number, "coach": payload.get("coach"), "client": user}
            self.bookings[number] = booking
            await self.mailer(
                user, "Your booking is confirmed", f"Booking {number} with coach {booking['coach']}"
            )
            return await reply(201, booking)
        return await reply(404, {"error": "no such endpoint"})

    @staticmethod
    async def respond(
        send: Send, status: int, body: bytes, headers: dict[str, str], kind: str = "text/html"
    ) -> None:
        raw = [(k.encode(), v.encode()) for k, v in headers.items()] + [(b"content-type", kind.encode())]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})
