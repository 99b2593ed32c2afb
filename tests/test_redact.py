import pytest

from launch_gate.redact import Redactor, fingerprint, marker, scrub
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
    assert marker("plain-looking-value") in clean.message
    assert fingerprint("plain-looking-value") not in clean.message  # keyed: short values cannot be guessed


def test_redactor_ignores_values_too_short_to_be_secrets():
    assert Redactor(["ab"]).text("ab cd") == "ab cd"


def test_fingerprint_is_stable():
    assert fingerprint("x") == fingerprint("x") != fingerprint("y")


def test_fragments_of_a_secret_are_redacted_when_asked_as_in_shortened_diffs():
    secret = "tok_9f8e7d6c5b4a39281716"
    redactor = Redactor([secret])
    diff = "assert 'tok_9f8e7d6c...39281716' == 'x'"
    assert "tok_9f8e7d6c" not in redactor.text(diff, fragments=True)
    assert "39281716" not in redactor.text(diff, fragments=True)
    assert redactor.text("assert 'something_else_entirely' == 'x'", fragments=True).count("redacted") == 0
    assert "tok_9f8e7d6c" not in redactor.text(diff)  # always: a piece of a secret is a leak


def test_a_secret_cut_short_leaves_no_six_character_piece():
    secret = "Zq8-vL2_pW4#nR6!"
    redactor = Redactor([secret])
    for cut in range(6, len(secret)):
        for text in (f"body: {secret[:cut]}", f"{secret[-cut:]} tail", f"x{secret[2 : 2 + cut]}y"):
            out = redactor.text(text)
            assert all(secret[i : i + 6] not in out for i in range(len(secret) - 5)), (text, out)
    assert redactor.text("nothing of it here") == "nothing of it here"


def test_shell_and_runner_variables_are_not_secrets_but_secret_named_ones_are():
    environ = {
        "PWD": "/home/dev/my-project",
        "OLDPWD": "/home/dev",
        "HOME": "/home/dev",
        "PATH": "/usr/local/bin:/usr/bin",
        "GOOGLE_APPLICATION_CREDENTIALS": "/run/secrets/gcp.json",
        "SESSION_COOKIE_NAME": "session",
        "TOKEN_TTL": "3600",
        "API_BASE_URL": "https://api.example.com",
        "DB_PASSWORD": "hunter22",
        "DATABASE_URL": "postgres://app:s3cr3t-pass@db.internal:5432/app",
    }
    redactor = Redactor.from_environ(environ)
    text = "in /home/dev/my-project: the session cookie, https://api.example.com, TTL 3600"
    assert redactor.text(text) == text
    out = redactor.text("hunter22 and s3cr3t-pass and postgres://app:s3cr3t-pass@db.internal:5432/app")
    assert "hunter22" not in out
    assert "s3cr3t" not in out
    assert "cr3t-p" not in out


def test_a_url_secret_hides_its_credentials_and_path_not_every_url():
    redactor = Redactor(["https://hooks.slack.com/services/T0001/B0002/XXXXYYYYZZZZ"])
    out = redactor.text("posted to https://hooks.slack.com/services/T0001/B0002/XXXXYYYY (cut)")
    assert "B0002" not in out
    assert "XXXXYY" not in out
    assert redactor.text("see https://www.example.com/docs") == "see https://www.example.com/docs"


def test_a_secret_made_of_the_gates_own_words_does_not_redact_them():
    redactor = Redactor(["my-app-secret-settings-2024"], vocabulary=["secrets.repo"])
    text = "secrets.repo: no secrets in the repository; settings loaded"
    assert redactor.text(text) == text
    assert "app-se" not in redactor.text("token my-app-secret-sett (cut)")


def test_public_words_inside_a_secret_link_stay_readable_elsewhere():
    link = "https://www.example.test/confirm?email=lg-20261205-ab12%40example.test&token=Zq8vL2pW4nR6"
    redactor = Redactor([link], vocabulary=["https://www.example.test", "lg-20261205-ab12@example.test"])
    text = "ends at https://www.example.test/ as lg-20261205-ab12@example.test"
    assert redactor.text(text) == text
    assert "Zq8vL2" not in redactor.text(link[:-3])
