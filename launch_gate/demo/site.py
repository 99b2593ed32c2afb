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
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from launch_gate.demo import apidoc

CANONICAL = "www.example.test"
LOGIN_FAILURES, LOGIN_WINDOW = 5, 60.0  # wrong passwords per account, seconds: then 429
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
    log_file: Path | None = None  # the app's log (security.logs reads it)
    failed_logins: dict[str, list[float]] = field(default_factory=dict)  # email -> when a login failed
    edge_cache: dict[str, float] = field(default_factory=dict)  # static path -> when the CDN stored it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        send = self.cdn(scope["path"], send)  # the CDN's headers (edge.protection)
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
        if await self.inputs(send, method, path, headers, body, extra):  # /openapi.json; input validation
            return None
        if await self.healthz(send, method, path, extra):  # /healthz (health.dependencies)
            return None
        if path.startswith("/api/") or path == "/health":
            return await self.api(send, method, path, headers, body, extra)
        self.log_not_found(method, path)  # security.logs: an access log holds every request, 404s too
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
        if (answer := self.security(method, path, payload, user)) is not None:
            return await reply(*answer, private=True)
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

    # --- security baseline (checks security.*): the app's log, the login throttle, faults ---
    def security(
        self, method: str, path: str, payload: dict[str, Any], user: str | None
    ) -> tuple[int, object] | None:
        """Log the request; answer it here when the login throttle or a security fault decides the answer.
        Faults: `no-login-throttle`, `idor-booking` (any logged-in user reads any booking), `password-in-log`."""
        line = f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {method} {path}"
        if (method, path) == ("POST", "/api/signup") and "password-in-log" in self.faults:
            line += f" body={json.dumps(payload)}"  # the mistake: a request body, password and all, logged
        self.write_log(line)
        if (method, path) == ("POST", "/api/login") and "no-login-throttle" not in self.faults:
            email = str(payload.get("email", ""))
            if self.users.get(email) != payload.get("password"):
                now = time.monotonic()
                recent = [t for t in self.failed_logins.get(email, []) if now - t < LOGIN_WINDOW]
                self.failed_logins[email] = [*recent, now]
                if len(recent) >= LOGIN_FAILURES:
                    return 429, {"error": "too many failed logins; try again in a minute"}
        if "idor-booking" in self.faults and method == "GET" and user is not None:
            number = path.removeprefix("/api/bookings/")
            if path.startswith("/api/bookings/") and number.isdigit() and int(number) in self.bookings:
                return 200, self.bookings[int(number)]  # the mistake: no check that it is the user's own
        return None

    def log_not_found(self, method: str, path: str) -> None:
        """A request no route serves, in the log as an access log writes it (the gate's marker request)."""
        self.write_log(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {method} {path} 404")

    def write_log(self, line: str) -> None:
        if self.log_file is not None:
            with self.log_file.open("a", encoding="utf-8") as log:
                log.write(line + "\n")

    # --- security.inputs: the OpenAPI document, and signups checked against it; fault `input-500` ---
    async def inputs(
        self, send: Send, method: str, path: str, headers: dict[str, str], body: bytes, extra: dict[str, str]
    ) -> bool:
        """Serve /openapi.json, and answer a signup whose body breaks the document before the app sees it:
        a 422 (what is not JSON: the app's own 400), or with `input-500` a 500 with a stack trace. Whether it
        answered."""
        if path == "/openapi.json" and method in ("GET", "HEAD"):
            await self.respond(send, 200, json.dumps(apidoc.OPENAPI).encode(), extra, "application/json")
            return True
        if (method, path) != ("POST", "/api/signup"):
            return False
        problem = apidoc.signup_problem(body, headers.get("content-type", ""))
        if problem is None or (problem == "not JSON" and "input-500" not in self.faults):
            return False
        if "input-500" in self.faults:
            await self.respond(send, 500, apidoc.crash(body).encode(), extra, "text/plain")
        else:
            await self.respond(send, 422, json.dumps({"error": problem}).encode(), extra, "application/json")
        return True

    # --- release safety (health.dependencies, edge.protection): /healthz, the CDN in front; faults ---
    def cdn(self, path: str, send: Send) -> Send:
        """`send`, with the headers a CDN in front adds (Cloudflare's shape): a ray id on every answer, and a
        cache status: a cacheable static asset is a MISS the first time, then a HIT with its Age. Fault
        `no-edge`: nothing stands in front, the origin answers alone."""
        if "no-edge" in self.faults:
            return send

        async def through_edge(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                control = b" ".join(v for k, v in headers if k.lower() == b"cache-control")
                storable = message["status"] == 200 and not any(
                    word in control for word in (b"no-store", b"private", b"no-cache")
                )
                status, age = "DYNAMIC", None
                if path.startswith("/static/") and storable:
                    stored = self.edge_cache.get(path)
                    status = "MISS" if stored is None else "HIT"
                    self.edge_cache.setdefault(path, time.monotonic())
                    age = None if stored is None else int(time.monotonic() - stored)
                headers += [
                    (b"cf-ray", f"{secrets.token_hex(8)}-LHR".encode()),
                    (b"cf-cache-status", status.encode()),
                ]
                headers += [] if age is None else [(b"age", str(age).encode())]
                message = {**message, "headers": headers}
            await send(message)

        return through_edge

    async def healthz(self, send: Send, method: str, path: str, extra: dict[str, str]) -> bool:
        """A health endpoint that reports the app's real dependencies, never cached; fault `health-db-down`:
        it still answers 200 while the database is down. Whether it answered."""
        if path != "/healthz" or method not in ("GET", "HEAD"):
            return False
        database = {"status": "up", "latency_ms": 2}
        if "health-db-down" in self.faults:
            database = {"status": "down", "error": "connection refused (127.0.0.1:5432)"}
        checks = {"database": database, "cache": {"status": "up"}, "email": {"status": "up"}}
        body = json.dumps({"status": "ok", "checks": checks}).encode()
        await self.respond(send, 200, body, {**extra, "cache-control": "no-store"}, "application/json")
        return True

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
