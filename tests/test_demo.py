"""The bundled demo deployment: README's one command, its faults, and the app behind it."""

import asyncio
import json
import subprocess
import sys

import dkim
import dns.resolver
import pytest

from launch_gate import demo
from launch_gate.config import load_settings
from launch_gate.net import http_client
from tests.conftest import base_env, run_cli


def test_the_clean_demo_is_ready(tmp_path):
    done = run_cli("demo", "--report-json", str(tmp_path / "r.json"), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "READY to launch" in done.stdout
    assert "Left behind: no users, no bookings.\nStopped the demo deployment." in done.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert {c["outcome"] for c in report["checks"]} == {"pass"}
    assert len(report["checks"]) >= 13


def test_the_broken_demo_fails_each_misconfiguration(tmp_path):
    done = run_cli("demo", "--broken", "--report-json", str(tmp_path / "r.json"), cwd=tmp_path)
    assert done.returncode == 1
    failed = {
        c["id"] for c in json.loads((tmp_path / "r.json").read_text())["checks"] if c["outcome"] == "fail"
    }
    assert failed == {
        "domain.redirects",
        "headers.hsts",
        "exposure.files",
        "exposure.errors",
        "email.spf",
        "email.dmarc",
    }


def test_a_login_that_sets_an_insecure_session_cookie_blocks_the_deploy(tmp_path):
    """Before: the landing page's cookie was fine, nothing else was judged, and the demo said READY (exit 0)."""
    done = run_cli(
        "demo", "--fault", "insecure-login-cookie", "--report-json", str(tmp_path / "r.json"), cwd=tmp_path
    )
    assert done.returncode == 1, done.stdout + done.stderr
    checks = json.loads((tmp_path / "r.json").read_text())["checks"]
    assert {c["id"] for c in checks if c["outcome"] != "pass"} == {
        "headers.cookies",
        "smoke.signup",
        "smoke.login",
        "smoke.booking",
    }
    assert "cookie session lacks Secure, HttpOnly" in done.stdout
    assert "Left behind: no users, no bookings." in done.stdout  # the failed flows cleaned up too


def test_a_dns_outage_is_could_not_verify_exit_2(tmp_path):
    done = run_cli("demo", "--fault", "dns-servfail", cwd=tmp_path)
    assert done.returncode == 2, done.stdout
    assert "could not verify" in done.stdout


def test_an_expired_certificate_fails(tmp_path):
    done = run_cli("demo", "--fault", "expired-cert", cwd=tmp_path)
    assert done.returncode == 1
    assert "certificate has expired" in done.stdout


def test_an_unknown_fault_is_a_usage_error(tmp_path):
    done = run_cli("demo", "--fault", "no-such-fault", cwd=tmp_path)
    assert done.returncode == 4
    assert "unknown --fault no-such-fault" in done.stderr


# As if the demo extra were not installed: importing any of its packages raises ModuleNotFoundError.
WITHOUT_DEMO_EXTRA = (
    "import sys\nfor name in ('uvicorn', 'trustme', 'dnslib'):\n    sys.modules[name] = None\n"
)
MISSING_EXTRA = "the demo needs the demo extra: pip install 'launch-gate[demo]'"


def run_without_demo_extra(code: str, cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_DEMO_EXTRA + code],
        cwd=cwd, env=base_env(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_without_the_demo_extra_the_demo_command_says_how_to_install_it(tmp_path):
    done = run_without_demo_extra(
        "import runpy\nsys.argv = ['launch-gate', 'demo']\nrunpy.run_module('launch_gate', run_name='__main__')\n",
        tmp_path,
    )
    assert done.returncode == 4, done.stdout + done.stderr
    assert MISSING_EXTRA in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_without_the_demo_extra_importing_the_demo_is_an_import_error(tmp_path):
    done = run_without_demo_extra(
        "try:\n    from launch_gate import demo\nexcept ImportError as error:\n    print('ImportError:', error)\n",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"ImportError: {MISSING_EXTRA}"


def test_signup_sends_a_dkim_signed_email_that_verifies_against_the_published_key():
    with demo.running() as running:
        settings = load_settings(cwd=running.config.parent, config_file=running.config, environ={})

        async def signup():
            async with http_client(settings) as http:
                return await http.post(
                    "https://www.example.test/api/signup",
                    json={"email": "ada@clients.test", "password": "s3cure-pass"},
                )

        assert asyncio.run(signup()).status_code == 201
        [(recipients, raw)] = running.inbox.messages
        assert recipients == ["ada@clients.test"]
        resolver = dns.resolver.Resolver(configure=False)
        assert running.dns is not None
        resolver.nameservers, resolver.port = ["127.0.0.1"], running.dns.port

        def txt(name: bytes, timeout: int = 5) -> bytes:
            answer = resolver.resolve(name.decode().rstrip("."), "TXT", lifetime=timeout)
            return b"".join(b"".join(r.strings) for r in answer)

        assert dkim.verify(raw, dnsfunc=txt)


def test_unknown_faults_are_refused_by_the_library_too():
    with pytest.raises(ValueError, match="unknown demo faults"), demo.running(["nope"]):
        pass


FAULT_FAILS = {
    "insecure-cookie": "headers.cookies",
    "cors-reflect": "headers.cors",
    "no-cache-headers": "headers.cache",
    "weak-hsts": "headers.hsts",
    "no-csp": "headers.security",
    "loop": "domain.redirects",
    "exposed-git": "exposure.files",
    "spf-plus-all": "email.spf",
    "no-dmarc": "email.dmarc",
    "no-dkim": "email.dkim",
    "no-mx": "email.mx",
    "wrong-host-cert": "tls.certificate",
    "expiring-cert": "tls.expiry",
    "home-loop": "domain.redirects",
    "home-500": "domain.redirects",
    "insecure-login-cookie": "headers.cookies",
    "domain-expiring": "domain.registration",
    "domain-hold": "domain.registration",
    "health-db-down": "health.dependencies",
    "no-edge": "edge.protection",  # warn-level by default: hardening, not a launch blocker
    "idor-booking": "security.ownership",
    "no-login-throttle": "security.rate-limits",
    "password-in-log": "security.logs",
    "input-500": "security.inputs",
}
WARNS = {"no-edge"}


@pytest.mark.parametrize(("fault", "check_id"), FAULT_FAILS.items())
def test_each_fault_fails_its_check_and_only_what_it_breaks(fault, check_id):
    from launch_gate.runner import build_plan, make_context, run_plan

    with demo.running([fault]) as running:
        settings = load_settings(cwd=running.config.parent, config_file=running.config, environ={})
        edge = [  # flows and latency are tested apart
            p for p in build_plan(settings, "post") if not p.check.id.startswith(("latency.", "smoke."))
        ]
        report = run_plan(edge, make_context(settings, {}))
    outcomes = {r.id: r.outcome.value for r in report.results}
    assert outcomes[check_id] == ("warn" if fault in WARNS else "fail"), (fault, outcomes)
    collateral = {cid for cid, outcome in outcomes.items() if outcome != "pass"} - {check_id}
    if fault == "wrong-host-cert":  # every https probe fails verification: those checks could not verify
        assert {outcomes[c] for c in collateral} == {"error"}, outcomes
    elif fault == "loop":  # the canonical host itself redirects: no page headers, no app behind it to probe
        page_checks = {"headers.hsts", "headers.security", "headers.cache", "headers.cookies"}
        app_checks = {"health.dependencies", *(c for c in outcomes if c.startswith("security."))}
        assert collateral <= page_checks | app_checks, collateral
        assert {outcomes[c] for c in collateral - {"health.dependencies"}} == {"error"}, outcomes
    elif fault in ("home-loop", "home-500"):  # no home page: the header checks say they could not judge it
        page_checks = {"headers.hsts", "headers.security", "headers.cache", "headers.cookies"}
        assert collateral == page_checks, collateral
        assert {outcomes[c] for c in collateral} == {"error"}, outcomes
    elif fault == "no-cache-headers":  # the CDN follows the origin's no-store: it caches nothing, which warns
        assert collateral == {"edge.protection"}, collateral
        assert outcomes["edge.protection"] == "warn", outcomes
    else:
        assert collateral == set(), collateral


def test_under_pytest_the_post_gate_runs_only_the_selected_checks_and_reports_each(pytester):
    """pytest --launch-gate runs the selected checks together in the background; -k still selects."""
    with demo.running(["no-hsts"]) as running:
        before = len(running.site.requests)
        result = pytester.runpytest_inprocess(
            "--launch-gate", "--gate-phase", "post", "--gate-config", str(running.config),
            "-k", "hsts or (headers and security) or cookies", "-p", "no:cacheprovider",
        )  # fmt: skip
        paths = {path for _, _, path in running.site.requests[before:]}
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*headers.hsts*no Strict-Transport-Security header*"])
    # one shared fetch of the page, and the login page it links (cookies); exposure.files and the rest never ran
    assert paths == {"/", "/login"}, paths
