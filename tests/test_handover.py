"""`launch-gate handover`: the founder-ready pack against the demo deployment (every section filled), from a
JSON report, inside the Markdown summary, its usage errors, and the promise that no secret reaches it."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from launch_gate import demo
from launch_gate.config import Settings
from launch_gate.demo.rdap import REGISTRAR
from launch_gate.handover import Facts, Inputs, render
from launch_gate.handover.pack import SECTIONS, safe_note, site_only
from launch_gate.results import CheckResult, GateReport, Outcome, Phase
from tests.conftest import run_cli
from tests.test_redaction_property import SECRET, assert_no_piece

QUICK = "dns,email"  # with the checks the pack reads its facts from, which always run


def sections(text: str) -> dict[str, str]:
    """The pack's sections by title, each its body."""
    parts = re.split(r"^## (.+)$", text, flags=re.MULTILINE)
    return {title: body.strip() for title, body in zip(parts[1::2], parts[2::2], strict=True)}


def handover(tmp_path, config, *args):
    out = tmp_path / "HANDOVER.md"
    done = run_cli("handover", "--config", str(config), "--output", str(out), *args, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    return out.read_text(encoding="utf-8"), done


def test_against_the_demo_every_section_is_filled_from_what_was_found(tmp_path):
    with demo.running() as running:
        text, done = handover(tmp_path, running.config, "--select", QUICK)
    assert f"wrote the handover pack to {tmp_path / 'HANDOVER.md'}" in done.stderr
    found = sections(text)
    assert list(found) == list(SECTIONS)
    expires = f"{datetime.now(UTC) + timedelta(days=400):%Y-%m-%d}"
    assert f"| Registrar | {REGISTRAR} |" in found["Domain registration"]
    assert f"| Expires | {expires} (400 days left) |" in found["Domain registration"]
    assert "`ns1.example.test`, `ns2.example.test`" in found["DNS"]
    assert "(MX): `10 mail.example.test`" in found["Email"]
    assert "(SPF includes): `_spf.mail.example.test`" in found["Email"]
    assert re.search(
        r"`www\.example\.test`: issued by trustme .*, expires \d{4}-\d\d-\d\d \(\d+ days left\)",
        found["TLS certificate"],
    )
    assert "`www.example.test` points at `127.0.0.1`" in found["Hosting and edge"]
    assert "In front: Cloudflare (cf-ray, cf-cache-status)" in found["Hosting and edge"]
    assert "Health endpoint: `/healthz`, must report database, cache, email" in found["Monitoring"]
    assert "`DATABASE_URL` (`[env] required`)" in found["Secrets"]
    assert "Kept in: the hosting provider's secrets" in found["Secrets"]
    assert found["Rollback"].startswith("1. Redeploy the previous release")
    assert (
        "**✅ launch-gate: ready to launch** (from the post checks, run just now"
        in found["Latest gate result"]
    )
    assert "| `domain.registration` | ✅ pass |" in found["Latest gate result"]
    assert "| `email.spf` | ✅ pass |" in found["Latest gate result"]
    assert found["Open waivers"] == "None: no finding is waived."
    assert found["Known risks"].startswith("None:")
    for title, body in found.items():
        assert body, title
        assert "not found" not in body, title
        assert "did not run" not in body, title


def test_a_domain_on_hold_and_no_cdn_are_in_the_known_risks(tmp_path):
    with demo.running(["domain-hold", "no-edge"]) as running:
        text, _ = handover(tmp_path, running.config, "--select", QUICK)
    found = sections(text)
    risks = found["Known risks"].splitlines()
    assert risks[0].startswith("- ❌ fail `domain.registration`: example.test is in clientHold")
    assert risks[1].startswith("- ⚠️ warn `edge.protection`: no CDN or WAF answers in front")
    assert (
        "| Status | clientTransferProhibited, clientDeleteProhibited, clientUpdateProhibited, clientHold |"
        in (found["Domain registration"])
    )
    assert "In front: no CDN or WAF detected" in found["Hosting and edge"]
    assert "**❌ launch-gate: blocked, a check failed**" in found["Latest gate result"]


def test_the_gate_result_can_come_from_a_json_report_and_the_facts_are_still_looked_up(tmp_path):
    with demo.running() as running:
        done = run_cli("check", "--phase", "post", "--select", "dns.resolves", "--config", str(running.config),
                       "--report-json", str(tmp_path / "r.json"), cwd=tmp_path)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        text, _ = handover(tmp_path, running.config, "--report-json", str(tmp_path / "r.json"), "-q")
    found = sections(text)
    assert f"(from the report {tmp_path / 'r.json'}, phase `post`): 0 failed" in found["Latest gate result"]
    assert re.findall(r"^\| `([\w.]+)` \|", found["Latest gate result"], re.MULTILINE) == ["dns.resolves"]
    assert f"| Registrar | {REGISTRAR} |" in found["Domain registration"]  # run for the pack
    assert "In front: Cloudflare" in found["Hosting and edge"]


def test_the_markdown_summary_carries_the_pack_on_request(tmp_path):
    with demo.running() as running:
        done = run_cli("check", "--phase", "post", "--select", "domain,edge", "--config", str(running.config),
                       "--summary-md", str(tmp_path / "s.md"), "--handover", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    summary = (tmp_path / "s.md").read_text(encoding="utf-8")
    assert summary.startswith("## ✅ launch-gate: ready to launch")
    assert "\n# Handover pack: www.example.test\n" in summary
    assert f"| Registrar | {REGISTRAR} |" in summary


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["check", "--handover"],
            "--handover adds the handover pack to the Markdown summary: give --summary-md",
        ),
        (["handover", "--report-json", "missing.json"], "--report-json missing.json: cannot read it"),
        (["handover", "--report-json", "bad.json"], "--report-json bad.json is not JSON"),
        (
            ["handover", "--report-json", "other.json"],
            "--report-json other.json is not a launch-gate JSON report",
        ),
    ],
)
def test_bad_usage_is_one_sentence_and_exit_4(project, args, words):
    root = project(
        {
            "launch-gate.toml": "[env]\nrequired = []\n",
            "bad.json": "{not json",
            "other.json": json.dumps({"checks": [{"id": "x"}], "phase": "post"}),
        }
    )
    done = run_cli(*args, cwd=root)
    assert done.returncode == 4, done.stdout + done.stderr
    assert words in done.stderr
    assert "Traceback" not in done.stderr


def test_a_rollback_file_is_read_and_a_missing_one_is_exit_4(project):
    root = project({"launch-gate.toml": '[handover]\nrollback-file = "docs/rollback.md"\n'})
    done = run_cli("handover", "-q", cwd=root)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "`[handover] rollback-file` in launch-gate.toml names docs/rollback.md" in done.stderr
    (root / "docs").mkdir()
    (root / "docs" / "rollback.md").write_text("Flip the load balancer back to blue.\n", encoding="utf-8")
    done = run_cli("handover", "-q", cwd=root)
    assert done.returncode == 0, done.stderr
    assert sections(done.stdout)["Rollback"] == "Flip the load balancer back to blue."


def test_a_pack_that_cannot_be_written_is_exit_3(project):
    root = project({"launch-gate.toml": "", "taken": "a file, not a folder"})
    done = run_cli("handover", "-q", "--output", "taken/HANDOVER.md", cwd=root)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "could not write the handover pack to taken/HANDOVER.md" in done.stderr


def test_waivers_are_listed_with_their_expiry_and_soon_expiring_ones_are_risks(project):
    soon, later = (
        datetime.now(UTC).date() + timedelta(days=10),
        datetime.now(UTC).date() + timedelta(days=200),
    )
    root = project(
        {
            "launch-gate.toml": (
                f'[[deps.waivers]]\nid = "PYSEC-2024-48"\nreason = "not reachable from our code"\nexpires = {later}\n'
                f'[[secrets.waivers]]\nid = "sha256:0123456789ab"\nreason = "a test fixture key"\nexpires = {soon}\n'
            )
        }
    )
    done = run_cli("handover", "-q", cwd=root)
    assert done.returncode == 0, done.stderr
    found = sections(done.stdout)
    rows = found["Open waivers"].splitlines()[2:]
    assert rows == [
        f"| `[secrets]` | `sha256:0123456789ab` | a test fixture key | {soon} (in 10 days) |",
        f"| `[deps]` | `PYSEC-2024-48` | not reachable from our code | {later} (in 200 days) |",
    ]
    assert f"- ⏳ the `[secrets]` waiver of `sha256:0123456789ab` expires on {soon}" in found["Known risks"]


def test_urls_keep_only_their_scheme_and_host_and_notification_urls_only_their_service():
    text = "alert https://hooks.slack.com/services/T0/B0/abc and https://ops:pw@status.example.com:8443/?k=v and https://x.test/"
    assert site_only(text) == (
        "alert https://hooks.slack.com/… and https://status.example.com:8443/… and https://x.test"
    )
    text = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnl/#ops, tgram://123456:ABCdef/4567, mailto://me:pw@gmail.com?to=x"
    assert site_only(text) == "slack://…, tgram://…, mailto://gmail.com/…"


@pytest.mark.skipif("watch" not in Settings.model_fields, reason="no [watch] table in this build")
def test_the_watch_alert_destinations_are_shown_without_their_tokens(project):
    root = project(
        {
            "launch-gate.toml": (
                '[watch]\ninterval = 120\nalerts = ["slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnl/#ops", '
                '"json://hooks.example.test/launch-gate?key=k3y-Secret"]\n'
            )
        }
    )
    done = run_cli("handover", "-q", cwd=root)
    assert done.returncode == 0, done.stderr
    monitoring = sections(done.stdout)["Monitoring"]
    assert "- interval: 120" in monitoring
    assert "- alerts: slack://…, json://hooks.example.test/…" in monitoring
    assert "T1JJ3T3L2" not in done.stdout
    assert "k3y-Secret" not in done.stdout


def pack_with(secret: str, cut: str) -> str:
    config = Settings(
        target="https://www.example.test/",
        env={"required": ["API_TOKEN", "DATABASE_URL"]},
        health={"path": "/healthz"},
        handover={"rollback": f"restore with {secret}", "secrets-store": f"vault {cut}"},
    )
    report = GateReport(
        "post",
        (
            CheckResult("domain.registration", Phase.POST, Outcome.WARN, f"registrar said {cut}!",
                        metrics={"registrar": secret, "expires": "2030-01-01", "statuses": [cut]}),
            CheckResult("edge.protection", Phase.POST, Outcome.PASS, "ok", metrics={"cdn": cut, "evidence": [secret]}),
        ),
    )  # fmt: skip
    environ = {
        "API_TOKEN": secret,
        "DATABASE_URL": f"postgres://app:{secret}@db.internal/app",
        "HOME": "/root",
    }
    return render(Inputs(config, report, Facts(), environ, datetime.now(UTC), f"a run {cut}"))


@settings(max_examples=40, deadline=None)
@given(secret=SECRET, data=st.data())
def test_no_piece_of_a_secret_from_the_environment_reaches_the_pack(secret, data):
    start = data.draw(st.integers(0, len(secret) - 6))
    cut = secret[start : data.draw(st.integers(start + 6, len(secret)))]
    text = pack_with(secret, cut)
    assert "`API_TOKEN`" in text  # named, never shown
    assert_no_piece(
        [secret],
        text,
        vocabulary="https://www.example.test/ www.example.test domain.registration edge.protection",
    )


# --- the trial's finding (issue 15): a waiver's reason may hold a token ---
def test_a_waivers_reason_never_shows_a_token_it_holds(project):
    later = datetime.now(UTC).date() + timedelta(days=200)
    reason = "backup at s3://bucket?X-Amz-Signature=SigSecret99ab taken; key: Zq9vR2pL7wXe4M, see JIRA-1234"
    root = project(
        {
            "launch-gate.toml": (
                f'[[deps.waivers]]\nid = "PYSEC-2024-48"\nreason = "{reason}"\nexpires = {later}\n'
                f'[[secrets.waivers]]\nid = "sha256:0123456789ab"\nexpires = {later}\n'
                'reason = "fixture key 9f8e7d6c5b4a39281706f5e4d3c2b1a0 and X-Amz-Signature=SigSecret42cd"\n'
            )
        }
    )
    done = run_cli("handover", "-q", cwd=root)
    assert done.returncode == 0, done.stderr
    waived = sections(done.stdout)["Open waivers"]
    for token in ("SigSecret99ab", "SigSecret42cd", "Zq9vR2pL7wXe4M", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"):
        assert token not in done.stdout
    assert "backup at s3://… taken; key: [redacted sha256:" in waived
    assert "see JIRA-1234" in waived
    assert "fixture key [redacted sha256:" in waived
    assert "X-Amz-Signature=[redacted sha256:" in waived


@pytest.mark.parametrize(
    "reason",
    [
        "not reachable from our code",
        "the column is unused since v2.3 (PR #412, db/migrations/V2__AddUsersTable.sql)",
        "GHSA-jfh8-c2jp-5v3q: only the CLI uses it",
        "approved by the payments team on 2026-11-30T10:00:00Z",
    ],
)
def test_a_plain_reason_is_shown_as_written(reason):
    assert safe_note(reason, None) == reason


CREDENTIAL_NAMES = [
    "token",
    "X-Amz-Signature",
    "api_key",
    "password",
    "secret",
    "sig",
    "Authorization",
    "session",
]
VALUE = st.text(st.sampled_from("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ0123456789-._~+/="), min_size=8,
                max_size=40)  # fmt: skip
HEX = st.binary(min_size=10, max_size=32).map(bytes.hex).filter(lambda h: any(c.isalpha() for c in h))


@settings(max_examples=50, deadline=None)
@given(
    name=st.sampled_from(CREDENTIAL_NAMES),
    separator=st.sampled_from(["=", ": ", " = ", ":"]),
    value=VALUE.filter(
        lambda v: any(c.isalnum() for c in v) and v not in "[redacted sha256:"
    ),  # not the mark
    digest=HEX,
    where=st.sampled_from(["{}", "see {} please", "({})", "backup {}, then"]),
)
def test_no_token_in_a_waivers_reason_reaches_the_pack(name, separator, value, digest, where):
    reason = where.format(f"{name}{separator}{value}") + f" and key {digest}"
    config = Settings(deps={"waivers": [{"id": "PYSEC-1", "reason": reason, "expires": "2099-01-01"}]})
    text = render(Inputs(config, GateReport("post", ()), Facts(), {}, datetime.now(UTC), "this run"))
    waived = sections(text)["Open waivers"]
    assert value not in waived
    assert digest not in waived
    assert waived.count("[redacted") >= 2  # a fingerprint, or scrub's mark after `token=`
