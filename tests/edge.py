"""A small edge (as a CDN would be) for the web checks' tests: canonical redirects, headers, files, errors.

Each fault is a word in `faults`, switched on by a test; the default edge is configured well.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CANONICAL = "www.example.test"
APEX = "example.test"
GOOD_HEADERS = {
    "strict-transport-security": "max-age=63072000; includeSubDomains; preload",
    "content-security-policy": "default-src 'self'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
}


@dataclass
class Edge:
    faults: set[str] = field(default_factory=set)

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        host = headers.get("host", "").split(":")[0]
        path = scope["path"] + (f"?{scope['query_string'].decode()}" if scope["query_string"] else "")
        location = self.redirect(scope["scheme"], host, path)
        if location is not None:
            status = 302 if "temporary-redirect" in self.faults else 301
            await self.respond(send, status, b"", {"location": location})
        else:
            await self.page(send, scope["path"])

    def redirect(self, scheme: str, host: str, path: str) -> str | None:
        if "loop" in self.faults and scheme == "https":
            return f"https://{APEX if host == CANONICAL else CANONICAL}{path}"
        if scheme == "http":
            if "http-skips-https" in self.faults:
                return (
                    f"http://{CANONICAL if host != CANONICAL else APEX}{path}" if host != CANONICAL else None
                )
            return f"https://{host}{path}"
        if host != CANONICAL:
            return f"https://{CANONICAL}{'' if 'drop-path' in self.faults else path}"
        return None

    async def page(self, send, path: str) -> None:  # type: ignore[no-untyped-def]
        extra = dict(GOOD_HEADERS)
        if "no-hsts" in self.faults:
            del extra["strict-transport-security"]
        if "weak-hsts" in self.faults:
            extra["strict-transport-security"] = "max-age=300"
        if "no-csp" in self.faults:
            del extra["content-security-policy"]
        if path == "/.env":
            if "exposed-env" in self.faults:
                return await self.respond(send, 200, b"DATABASE_URL=postgres://app:pw@db/app\n", extra)
        elif path == "/.git/config":
            if "exposed-git" in self.faults:
                return await self.respond(send, 200, b"[core]\n\trepositoryformatversion = 0\n", extra)
        elif path == "/" or path.startswith("/launch-gate-probe"):
            return await self.respond(send, 200, b"<html><body>Coachly</body></html>", extra)
        body = b"<h1>Not found</h1>"
        if "stack-trace" in self.faults:
            body += b'<pre>Traceback (most recent call last):\n  File "app.py", line 3</pre>'
        return await self.respond(send, 404, body, extra)

    @staticmethod
    async def respond(send, status: int, body: bytes, headers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
        raw = [(k.encode(), v.encode()) for k, v in headers.items()] + [(b"content-type", b"text/html")]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})
