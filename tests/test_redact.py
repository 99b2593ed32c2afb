import pytest

from launch_gate.redact import Redactor, fingerprint, redacted_prefix, scrub
from launch_gate.results import CheckResult, Finding, Outcome, Phase

STRIPE = "sk_live_51HqLyjWDarjtT1zdp7dcXYZ0a1b2c3"
AWS = "AKIAIOSFODNN7EXAMPLE"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"


@pytest.mark.parametrize("secret", [STRIPE, AWS, JWT, "ghp_" + "a" * 36, "xoxb-1234567890-abcdef"])
def test_scrub_removes_secret_shaped_text(secret):
    out = scrub(f"found {secret} here")
    assert secret not in out
    assert fingerprint(secret) in out


def test_scrub_removes_passwords_in_urls_and_assignments():
    out = scrub("postgres://app:hunter22@db/app and password=s3cr3tvalue")
    assert "hunter22" not in out
    assert "s3cr3tvalue" not in out
    assert "postgres://app:[redacted]@db/app" in out


def test_scrub_leaves_ordinary_text_alone():
    text = "DATABASE_URL is not set; see https://www.example.com/docs"
    assert scrub(text) == text


def test_redactor_removes_known_values_from_messages_findings_and_files():
    redactor = Redactor.from_environ({"API_TOKEN": "plain-looking-value", "HOME": "/root"})
    raw = CheckResult(
        "env.x",
        Phase.PRE,
        Outcome.FAIL,
        "got plain-looking-value",
        findings=(Finding("plain-looking-value again", file="plain-looking-value.txt"),),
    )
    clean = redactor.result(raw)
    assert "plain-looking-value" not in repr(clean)
    assert fingerprint("plain-looking-value") in clean.message


def test_redactor_ignores_values_too_short_to_be_secrets():
    assert Redactor(["ab"]).text("ab cd") == "ab cd"


def test_fingerprint_is_stable_and_prefix_shows_no_more_than_a_prefix():
    assert fingerprint("x") == fingerprint("x") != fingerprint("y")
    assert redacted_prefix(STRIPE) == f"sk_l…({len(STRIPE)} chars)"
    assert redacted_prefix("short") == "…(5 chars)"


def test_fragments_of_a_secret_are_redacted_when_asked_as_in_shortened_diffs():
    secret = "tok_9f8e7d6c5b4a39281716"
    redactor = Redactor([secret])
    diff = "assert 'tok_9f8e7d6c...39281716' == 'x'"
    assert "tok_9f8e7d6c" not in redactor.text(diff, fragments=True)
    assert "39281716" not in redactor.text(diff, fragments=True)
    assert redactor.text("assert 'something_else_entirely' == 'x'", fragments=True).count("redacted") == 0
    assert "tok_9f8e7d6c" in redactor.text(diff)  # off by default: gate messages show whole values only
