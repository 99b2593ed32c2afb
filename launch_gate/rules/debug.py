"""Debug output a live app must never show, on an error page or in an API answer: stack traces and the
debuggers of common stacks (Python, Django/Flask, Node, Java/Spring, .NET, Ruby on Rails, PHP, SQL)."""

from __future__ import annotations

import re

STACK_TRACE = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+, in |Werkzeug Debugger|django\.core\.|"
    r"DEBUG = True|at [\w$.<>]+ \([^)]*:\d+:\d+\)|Exception in thread|Stack trace:|NoMethodError|"
    r"ActionController::|System\.\w+Exception|at java\.|at org\.springframework\.|SQLSTATE\[|"
    r"Fatal error: .* on line \d+|\w+Error: .*\n\s+at "
)
SCANNED = 200_000  # characters of a body searched


def debug_output(text: str) -> str | None:
    """The first words (at most 60 characters) of debug output in `text`, if it shows any."""
    found = STACK_TRACE.search(text[:SCANNED])
    return found[0].strip()[:60] if found else None
