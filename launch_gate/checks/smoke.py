"""Declarative smoke flows (`smoke.<flow>`): what a first customer does, step by step, against the live site.

Each flow gets a throwaway user, sends its requests through the gate's HTTP settings (connect-to, CA bundle,
nameservers), waits for the emails it triggers and proves them (DKIM, alignment, links), captures values for
later steps, and runs its cleanup steps even when a step failed. A step that got a wrong answer fails the
flow; one that got no answer (timeout, unreachable, unreadable mailbox) is could-not-verify.
"""

from __future__ import annotations

from functools import partial

from launch_gate.checks import Check, Context, configured, new_check
from launch_gate.config import Settings
from launch_gate.flows.runner import run_flow
from launch_gate.results import Phase, Verdict
from launch_gate.rules.words import count


async def check_flow(name: str, ctx: Context) -> Verdict:
    """`smoke.<name>`: the flow, run by `launch_gate.flows.runner`."""
    return await run_flow(name, ctx)


def _timeout(name: str, settings: Settings) -> float:
    flow = settings.smoke.flows[name]
    steps = (*flow.steps, *flow.cleanup)
    waits = sum((s.email.within or settings.smoke.email_within) for s in steps if s.email is not None)
    requests = sum(1 for s in steps if s.email is None)
    return max(settings.timeout, waits + requests * settings.net.probe_timeout + 10)


@configured
def checks_for(settings: Settings) -> tuple[Check, ...]:
    """One check per configured flow, in configuration order."""
    return tuple(
        new_check(
            f"smoke.{name}",
            Phase.POST,
            f"flow {name!r}: {count(len(flow.steps), 'step')} as a first customer would take them, then cleanup",
            partial(check_flow, name),
            needs_target="to run smoke flows",
            timeout=partial(_timeout, name),
            fails_when=(
                "one per flow in `[smoke.flows]`: a step got the wrong status, lacked a value to capture, "
                "set a cookie lacking Secure/SameSite/HttpOnly (named with the step and the cookie; the "
                "flow and its cleanup still run), or a logged-in response may be stored by shared caches; "
                "an awaited email did not arrive in time, is not DKIM-signed, its signature does not verify "
                "against the key in DNS, its From is not your mail domain or not aligned with the "
                "signature, or it links to another host or plain http; or the cleanup failed. No answer "
                "(timeout, unreachable, unreadable mailbox, DKIM key lookup failing) is *could not verify*. "
                "Skipped against production unless `allow-production`"
            ),
        )
        for name, flow in settings.smoke.flows.items()
    )
