"""The demo's web side: an edge (as a CDN would be) in front of a small marketplace app.

Edge: apex -> www and http -> https redirects, HSTS and security headers, cacheable static assets. App: a
home page linking its login page, signup, login (bearer tokens and a session cookie), coach profiles and
search, bookings, a health endpoint, and transactional email (signup and booking confirmations). Each
misconfiguration is a word in `faults`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote

CANONICAL = "www.example.test"
SLOW_HOME = 2.5  # seconds the home page takes with "home-slow": over the 2 s page budget
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
    stall_origin: float | None = None

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
        if scope["path"] == "/" and "home-hang" in self.faults:
            return await self._hang(receive)
        if scope["path"] == "/" and "home-slow" in self.faults:
            await asyncio.sleep(SLOW_HOME)
        headers[":query"] = scope["query_string"].decode()
        await self.route(send, scope["method"], scope["path"], headers, body)

    @staticmethod
    async def _hang(receive: Receive) -> None:
        """Never answer: wait until the client gives up (or a minute passes), as a wedged origin would."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(60):
                while (await receive())["type"] != "http.disconnect":
                    pass

    def redirect(self, scheme: str, host: str, path: str) -> str | None:
        if "home-loop" in self.faults and (scheme, host, path) == ("https", CANONICAL, "/"):
            return f"https://{CANONICAL}/"  # the canonical URL redirects to itself
        if "loop" in self.faults and scheme == "https":
            return f"https://{APEX if host == CANONICAL else CANONICAL}{path}"
        if scheme == "http":
            if "http-skips-https" in self.faults:
                return f"http://{CANONICAL}{path}" if host != CANONICAL else None
            return f"https://{host}{path}"
        if host != CANONICAL:
            return f"https://{CANONICAL}{'' if 'drop-path' in self.faults else path}"
        return None

    def session_cookie(self, value: str, fault: str) -> str:
        """The `session` cookie; with `fault` on, without Secure and HttpOnly (as a careless login sets it)."""
        weak = fault in self.faults
        return f"session={value}; Path=/; " + ("SameSite=Lax" if weak else "Secure; HttpOnly; SameSite=Lax")

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
        if path == "/" and "home-500" in self.faults:
            return await self.respond(send, 500, b"<h1>Internal Server Error</h1>", extra)
        if path == "/login" and method == "GET":
            cookie = self.session_cookie("anonymous", "insecure-login-cookie")
            page = (
                b'<form method="post" action="/api/login"><input name="email"><input name="password"></form>'
            )
            return await self.respond(
                send, 200, page, {**extra, "set-cookie": cookie, "cache-control": "no-store"}
            )
        if path == "/" or path.startswith("/launch-gate-probe"):
            cookie = self.session_cookie("anonymous", "insecure-cookie")
            page = (
                b'<html><head><script src="/static/app.js"></script></head><body><h1>Coachly</h1>'
                b'<a href="/login">Log in</a></body></html>'
            )
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
        async def reply(status: int, data: object, private: bool | None = False, cookie: str = "") -> None:
            # private=None: a CDN rule caching every API answer ("public-session-cache")
            cache = {"cache-control": "private, no-store"} if private else {}
            if private is None:
                cache = {"cache-control": "public, max-age=600"}
            if cookie:
                cache["set-cookie"] = cookie
            body = b"" if status == 204 else json.dumps(data).encode()
            await self.respond(send, status, body, {**extra, **cache}, "application/json")

        try:
            if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                payload = {k: v[0] for k, v in parse_qs(body.decode()).items()}  # a plain HTML form
            else:
                payload = json.loads(body) if body else {}
        except ValueError:
            return await reply(400, {"error": "invalid JSON"})
        if not isinstance(payload, dict):
            return await reply(400, {"error": "a JSON object, please"})
        user = self.tokens.get(headers.get("authorization", "").removeprefix("Bearer "))
        query = parse_qs(headers.get(":query", ""))
        route = (method, path)
        if path == "/health":
            return await reply(200, {"status": "ok"})
        if path.startswith("/api/coaches") and "api-down" in self.faults:
            return await reply(503, {"error": "upstream unavailable"})
        if path.startswith("/api/coaches") and "stall" in self.faults:
            await self._stall()
        if route == ("POST", "/api/signup"):
            if "signup-500" in self.faults:
                return await reply(500, {"error": "internal server error"})
            email, password = str(payload.get("email", "")), str(payload.get("password", ""))
            if "@" not in email or len(password) < 8:
                return await reply(422, {"error": "an email and a password of 8+ characters"})
            if email in self.users:
                return await reply(409, {"error": "that email is registered"})
            self.users[email] = password
            if "no-email" not in self.faults:
                link = f"https://{CANONICAL}/confirm?email={quote(email)}"
                await self.mailer(
                    email, "Confirm your Coachly account", f"Welcome! Confirm your account: {link}"
                )
            return await reply(201, {"email": email})
        if route == ("POST", "/api/login"):
            if self.users.get(str(payload.get("email"))) != payload.get("password"):
                return await reply(401, {"error": "wrong email or password"})
            token = secrets.token_urlsafe(24)
            self.tokens[token] = str(payload["email"])
            cookie = self.session_cookie(token, "insecure-login-cookie")
            return await reply(200, {"token": token}, private=True, cookie=cookie)
        if route == ("GET", "/api/coaches"):
            words = (query.get("q") or [""])[0].lower().split()
            found = [
                c for c in COACHES if all(w in f"{c['name']} {c['topic']} {c['city']}".lower() for w in words)
            ]
            return await reply(200, found)
        if method == "GET" and path.startswith("/api/coaches/") and path.endswith("/slots"):
            if "slow-booking" in self.faults:
                await asyncio.sleep(0.45)
            return await reply(200, [{"start": "2026-12-01T09:00:00Z"}, {"start": "2026-12-01T10:00:00Z"}])
        if user is None and path.startswith(("/api/me", "/api/bookings")):
            return await reply(401, {"error": "log in first"})
        if route == ("GET", "/api/me"):
            mine = [b for b in self.bookings.values() if b["client"] == user]
            return await reply(
                200,
                {"email": user, "bookings": mine},
                private=None if "public-session-cache" in self.faults else True,
            )
        if route == ("DELETE", "/api/me"):
            assert user is not None
            self.users.pop(user, None)
            self.tokens = {t: e for t, e in self.tokens.items() if e != user}
            self.bookings = {n: b for n, b in self.bookings.items() if b["client"] != user}
            return await reply(204, None)
        if route == ("POST", "/api/bookings"):
            if not isinstance(payload.get("coach"), int) or isinstance(payload.get("coach"), bool):
                return await reply(422, {"error": "coach must be a coach's numeric id"})
            if "slow-booking" in self.faults:
                await asyncio.sleep(0.45)
            number = max(self.bookings, default=0) + 1
            self.bookings[number] = {"id": number, "coach": payload.get("coach"), "client": user}
            assert user is not None
            await self.mailer(user, "Your booking is confirmed", f"Booking {number} with coach {payload.get('coach')}: "
                              f"https://{CANONICAL}/bookings/{number}")  # fmt: skip
            return await reply(201, self.bookings[number], private=True)
        if path.startswith("/api/bookings/") and path.rsplit("/", 1)[1].isdigit():
            number = int(path.rsplit("/", 1)[1])
            booking = self.bookings.get(number)
            if booking is None or booking["client"] != user:
                return await reply(404, {"error": "no such booking"})
            if method == "DELETE":
                del self.bookings[number]
                return await reply(204, None)
            return await reply(200, booking, private=True)
        return await reply(404, {"error": "no such endpoint"})

    async def _stall(self) -> None:
        """The app freezes for a second, once: requests arriving 1-2 s after the first wait until 2 s."""
        now = asyncio.get_running_loop().time()
        if self.stall_origin is None:
            self.stall_origin = now
        if 1.0 <= now - self.stall_origin < 2.0:
            await asyncio.sleep(self.stall_origin + 2.0 - now)

    @staticmethod
    async def respond(
        send: Send, status: int, body: bytes, headers: dict[str, str], kind: str = "text/html"
    ) -> None:
        raw = [(k.encode(), v.encode()) for k, v in headers.items()] + [(b"content-type", kind.encode())]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})
