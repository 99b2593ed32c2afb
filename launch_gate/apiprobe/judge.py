"""What makes an answer to bad input wrong, by itself: a 5xx, or a stack trace in the body (at any status).

Pure: no I/O. Whether an answer breaks the OpenAPI document is schemathesis's to judge (`openapi.py`).
"""

from __future__ import annotations

from launch_gate.rules.debug import SCANNED, debug_output


def stack_trace(body: bytes) -> str | None:
    """The first words of a stack trace in `body`, if it shows one."""
    return debug_output(body[:SCANNED].decode("utf-8", "replace"))


def wrong_answer(status: int, body: bytes) -> str | None:
    """What is wrong with an answer to bad input, judged by status and body alone; None when nothing is."""
    trace = stack_trace(body)
    if status >= 500:
        return f"answered {status}" + (f" with a stack trace ({trace!r})" if trace else "")
    if trace:
        return f"answered {status} with a stack trace ({trace!r})"
    return None
