"""license.*: the project ships a license file, so users know what they may do with it.

Declared the way launch-gate's own checks are: `@check` registers the function; launch-gate imports this
module through the `launch_gate.checks` entry point named `license`, the prefix of every id declared here.
"""

from __future__ import annotations

from launch_gate.checks import Context, Outcome, Phase, Verdict, check

NAMES = ("LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE", "COPYING")


@check(
    "license.present",
    Phase.PRE,
    "the project root has a LICENSE file",
    fails_when="no LICENSE, LICENSE.md, LICENSE.txt or COPYING file is in the project root",
)
def check_license(ctx: Context) -> Verdict:
    found = [name for name in NAMES if (ctx.root / name).is_file()]
    if found:
        return Verdict.of(Outcome.PASS, f"{found[0]} is present")
    return Verdict.of(
        Outcome.FAIL,
        f"no license file in {ctx.root.name or ctx.root}: expected one of {', '.join(NAMES)}. "
        "Add one (https://choosealicense.com) so users know what they may do with the code.",
    )
