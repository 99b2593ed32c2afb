"""What the deployment exposes to anyone: well-known sensitive files, and error pages that show debug output.
A path that cannot be fetched makes the check an error (could not verify), never a pass."""

from __future__ import annotations

import asyncio
import re
import secrets

from launch_gate.checks import Context, check
from launch_gate.net import http_client
from launch_gate.net.probes import get
from launch_gate.results import Finding, Outcome, Phase, Verdict
from launch_gate.rules.debug import debug_output

EXPOSED = {
    "/.env": re.compile(r"(?m)^[A-Z][A-Z0-9_]*\s*="),
    "/.git/config": re.compile(r"\[core\]"),
    "/.git/HEAD": re.compile(r"^ref: refs/"),
    "/backup.zip": re.compile(r"^PK"),
    "/db.sql": re.compile(r"(?i)(create table|insert into)"),
    "/.DS_Store": re.compile(r"Bud1"),
    "/phpinfo.php": re.compile(r"(?i)phpinfo\(\)|PHP Version"),
    "/__debug__/": re.compile(r"(?i)debug toolbar|djdt"),
}


@check(
    "exposure.files",
    Phase.POST,
    "/.env, /.git, backups and debug pages are not served",
    needs_target="to check for exposed files",
    fails_when=(
        "`/.env`, `/.git/config`, `/.git/HEAD`, backups or debug pages are served (judged by their content, "
        "so a single-page app's catch-all 200 is not a false alarm)"
    ),
)
async def check_exposed_files(ctx: Context) -> Verdict:
    base = (ctx.settings.target or "").rstrip("/")
    async with http_client(ctx.settings) as http:
        responses = await asyncio.gather(*(get(http, base + path) for path in EXPOSED))
    exposed = [
        Finding(f"{path} is served ({r.status_code}, {len(r.content)} bytes)")
        for (path, pattern), r in zip(EXPOSED.items(), responses, strict=True)
        if r.status_code == 200 and pattern.search(r.text[:4096])
    ]
    if exposed:
        return Verdict.of(
            Outcome.FAIL,
            f"exposed to anyone: {exposed[0].message}. Block these paths at the web server or CDN.",
            exposed,
        )
    return Verdict.of(Outcome.PASS, f"none of {len(EXPOSED)} well-known sensitive paths is served")


@check(
    "exposure.errors",
    Phase.POST,
    "404 and error pages show no stack trace or debug output",
    needs_target="to check error pages",
    fails_when="a 404 or error page shows a stack trace or framework debug output",
)
async def check_error_pages(ctx: Context) -> Verdict:
    base = (ctx.settings.target or "").rstrip("/")
    paths = [f"/launch-gate-missing-{secrets.token_hex(4)}", "/%ff%fe", f"/?id='{secrets.token_hex(2)}"]
    async with http_client(ctx.settings) as http:
        responses = await asyncio.gather(*(get(http, base + p) for p in paths))
    leaks = [
        Finding(f"{r.request.url} ({r.status_code}) shows {shown!r}")
        for r in responses
        if (shown := debug_output(r.text))
    ]
    if leaks:
        return Verdict.of(
            Outcome.FAIL, f"an error page shows debug output: {leaks[0].message}. Turn debug mode off.", leaks
        )
    return Verdict.of(Outcome.PASS, f"no stack trace or debug output on {len(paths)} error pages")
