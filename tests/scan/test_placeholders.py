"""Which secret values the scans set aside as placeholders: only values that are placeholders as a whole,
never a real secret that merely contains a placeholder word (`todo-…`, `Your_…`)."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from launch_gate.rules.placeholders import placeholder_kind, whole_placeholder_kind
from launch_gate.secretscan.engine import scan

WHOLE = [
    "changeme",
    "CHANGE_ME",
    "changeme-now",
    "<your-key>",
    "<your-api-key>",
    "{{ SECRET }}",
    "xxx",
    "xxxxxxxx",
    "sk_live_xxxxxxxx",
    "your-stripe-key",
    "your_api_key_here",
    "example-key",
    "TODO",
    "replace-me",
    "placeholder",
    "dummy",
]
CONTAINING = [
    "todo-Xk29fLq8ZpR3vN7w",
    "Your_Company_Pr0d!2024",
    "example-9fKq2LmZ8xPw",
    "Xk29fLq8ZpR3vN7w-xxx",
    "your-company-Xk29fLq8",
    "changeme-Xk29fLq8ZpR3",
]


@pytest.mark.parametrize("value", WHOLE)
def test_a_placeholder_as_a_whole_is_set_aside(value):
    assert whole_placeholder_kind(value) is not None


@pytest.mark.parametrize("value", CONTAINING)
def test_a_real_value_containing_a_placeholder_word_is_not_set_aside(value):
    assert (
        placeholder_kind(value) is not None
    )  # env.placeholders still calls it one (a false alarm, not a leak)
    assert whole_placeholder_kind(value) is None


WORDS = (
    "todo",
    "TODO",
    "your_",
    "Your-",
    "example",
    "xxx",
    "XXXX",
    "changeme",
    "fixme",
    "dummy",
    "placeholder",
)
SEPARATORS = ("-", "_", " ", ".", "/", ":", "!")


@st.composite
def high_entropy(draw: st.DrawFn) -> str:
    """>= 12 letters and digits, with at least one of each."""
    body = draw(st.text(string.ascii_letters + string.digits, min_size=10, max_size=40))
    return draw(st.sampled_from(string.ascii_letters)) + body + draw(st.sampled_from(string.digits))


@settings(max_examples=300, deadline=None)
@given(
    high_entropy(),
    st.sampled_from(WORDS),
    st.sampled_from(SEPARATORS),
    st.booleans(),
)
def test_a_random_secret_with_a_placeholder_word_attached_is_never_set_aside(value, word, sep, prefix):
    word = word.rstrip("_-")
    shaped = f"{word}{sep}{value}" if prefix else f"{value}{sep}{word}"
    assert whole_placeholder_kind(shaped) is None, shaped


def test_the_reported_dotenv_secrets_are_hits_not_placeholders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        'smtp_password = "todo-Xk29fLq8ZpR3vN7w"\nDB_PASSWORD=Your_Company_Pr0d!2024\n'
    )
    hits = scan([(tmp_path / ".env", ".env")]).hits
    assert {h.line for h in hits} == {1, 2}
    assert [h.placeholder for h in hits] == [None] * len(hits)
