"""Without an OpenAPI document: a small fixed set of malformed bodies for each declared JSON endpoint.

What is sent never changes (MALFORMED, in this order), so the traffic is known before the run: at most
len(MALFORMED) requests per endpoint, each body at most ~200 KiB. A 5xx or a stack trace fails; a 4xx is
the answer expected; a write that takes a malformed body with a 2xx is reported, not failed (some APIs
ignore what they do not know).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import httpx

from launch_gate.apiprobe.judge import wrong_answer
from launch_gate.apiprobe.tally import SAFE_METHODS, Budget, Problem, Tally
from launch_gate.apiprobe.wire import Answer, send

JSON = "application/json"
BIG = 64 * 1024  # characters in each oversized string


@dataclass(frozen=True)
class Malformed:
    name: str  # what it is, in a finding: "bad JSON"
    content_type: str
    body: bytes


MALFORMED = (
    Malformed("bad JSON (cut short)", JSON, b'{"launch-gate": '),
    Malformed("an empty body", JSON, b""),
    Malformed("an empty object (every field missing)", JSON, b"{}"),
    Malformed("a JSON array, not an object", JSON, b'[1, "two", null]'),
    Malformed("a bare JSON string", JSON, b'"launch-gate"'),
    Malformed("JSON null", JSON, b"null"),
    Malformed(
        "fields of the wrong type",
        JSON,
        json.dumps(
            {
                "id": "not-a-number",
                "email": 12345,
                "name": ["a", "b"],
                "password": {"$ne": None},
                "count": "many",
                "amount": [],
                "date": 20240101,
                "active": "maybe",
                "coach": "1; DROP",
            }
        ).encode(),
    ),
    Malformed(
        "oversized strings (64 KiB each)",
        JSON,
        json.dumps({"email": "a" * BIG + "@example.test", "name": "N" * BIG, "password": "p" * BIG}).encode(),
    ),
    Malformed("invalid UTF-8", JSON, b'{"name": "\xff\xfe\xfd"}'),
    Malformed("the wrong content type (XML)", "application/xml", b'<?xml version="1.0"?><launch-gate/>'),
)
Reproduce = Callable[[str, str, list[tuple[str, str]], bytes | None], str]


def probe(
    endpoints: list[tuple[str, str]],
    base_url: str,
    client: httpx.Client,
    reproduce: Reproduce,
    budget: Budget,
    tally: Tally,
) -> None:
    """Each endpoint gets every malformed body in turn, until its first problem or the budget ends."""
    for method, path in endpoints:
        label, url = f"{method} {path}", base_url + path
        if not budget.left():
            tally.untried.append(label)
            continue
        tally.operations.append(label)
        for malformed in MALFORMED:
            if not budget.left() or tally.spoiled(label):
                break
            headers = [("Content-Type", malformed.content_type), ("Accept", JSON)]
            answer = send(client, method, url, headers, malformed.body)
            budget.sent += 1
            again = partial(reproduce, method, url, headers, malformed.body)  # made only for a problem
            if not isinstance(answer, Answer):
                tally.unanswered.append(
                    Problem(label, f"gave no answer to {malformed.name} ({answer.reason})", again())
                )
                continue
            wrong = wrong_answer(answer.status, answer.body)
            if wrong:
                tally.problems.append(Problem(label, f"{wrong} to {malformed.name}", again()))
            elif 200 <= answer.status < 300 and method not in SAFE_METHODS:
                tally.accepted.append(f"{label} took {malformed.name} with {answer.status}")
