"""A real marketplace deployment on loopback, to gate against: `launch-gate demo`, our tests, curious users.

It starts an authoritative DNS server for example.test, an SMTP server that receives the app's DKIM-signed
mail, and the site (edge + app) over http and https with certificates from a local CA, all on 127.0.0.1 at
ports chosen at start. The gate reaches it only through public settings (nameservers, connect-to, a CA
bundle) written to a launch-gate.toml, as a user testing a deploy before DNS cut-over would.
"""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from launch_gate.errors import ConfigError

EXTRA = ("uvicorn", "trustme", "dnslib")  # the `demo` extra: what the gate itself never needs
MISSING_EXTRA = "the demo needs the demo extra: pip install 'launch-gate[demo]'"


class DemoExtraMissing(ConfigError, ImportError):
    """The demo's servers are not installed: a sentence for the command (exit 4), an ImportError for code."""


try:
    import trustme

    from launch_gate.demo.dns import DnsServer, Zone
    from launch_gate.demo.mail import Inbox, Sender, smtp_server
    from launch_gate.demo.rdap import REGISTRY_FAULTS, Registry
    from launch_gate.demo.serve import http_server, tls_server
    from launch_gate.demo.site import APEX, CANONICAL, Edge
except ImportError as error:
    if (error.name or "").partition(".")[0] not in EXTRA:
        raise
    raise DemoExtraMissing(MISSING_EXTRA, name=error.name) from None

SELECTOR = "s1"
STALE = "127.0.0.2"  # "stale-address": an old server the apex still points at, with the old redirects
EDGE_FAULTS = {"temporary-redirect", "loop", "drop-path", "http-skips-https", "no-hsts", "weak-hsts", "no-csp",
               "exposed-env", "exposed-git", "stack-trace", "insecure-cookie", "cors-reflect",
               "no-cache-headers", "public-session-cache", "home-loop", "home-hang", "home-500", "home-slow",
               "insecure-login-cookie"}  # fmt: skip
DNS_FAULTS = {
    "spf-too-many",
    "spf-plus-all",
    "dmarc-none",
    "no-dmarc",
    "no-dkim",
    "no-caa",
    "no-mx",
    "dns-servfail",
    "dns-timeout",
    "spf-void-lookups",
    "stale-address",
}
TLS_FAULTS = {"expired-cert", "expiring-cert", "wrong-host-cert"}
APP_FAULTS = {"signup-500", "no-email", "slow-booking", "stall", "api-down"}
MAIL_FAULTS = {"bad-dkim"}
SECURITY_FAULTS = {"idor-booking", "no-login-throttle", "password-in-log"}  # checks security.*
INPUT_FAULTS = {"input-500"}  # check security.inputs: a malformed signup body crashes the app
# domain.registration (the demo's RDAP server), health.dependencies and edge.protection (the site)
RELEASE_FAULTS = {*REGISTRY_FAULTS, "health-db-down", "no-edge"}
FAULTS = frozenset(
    EDGE_FAULTS | DNS_FAULTS | TLS_FAULTS | APP_FAULTS | MAIL_FAULTS | SECURITY_FAULTS | INPUT_FAULTS
    | RELEASE_FAULTS
)  # fmt: skip
BROKEN = frozenset(
    {"temporary-redirect", "no-hsts", "exposed-env", "stack-trace", "spf-too-many", "dmarc-none"}
)


def _txt(text: str) -> str:
    """Zone-file TXT data, split into character-strings of at most 255 bytes."""
    return " ".join(f'"{text[i : i + 250]}"' for i in range(0, len(text), 250))


def zone(dkim_public: bytes, faults: Iterable[str] = ()) -> Zone:
    faults = set(faults)
    p = base64.b64encode(dkim_public).decode()
    spf = "v=spf1 ip4:127.0.0.0/8 include:_spf.mail.example.test -all"
    if "spf-too-many" in faults:
        spf = "v=spf1 " + " ".join(f"include:i{n}.example.test" for n in range(11)) + " -all"
    if "spf-void-lookups" in faults:  # three names that do not exist: receivers give up after two
        spf = "v=spf1 " + " ".join(f"a:gone{n}.example.test" for n in range(3)) + " ip4:127.0.0.0/8 -all"
    if "spf-plus-all" in faults:
        spf = "v=spf1 ip4:127.0.0.0/8 +all"
    policy = "none" if "dmarc-none" in faults else "reject"
    records: Zone = {
        (APEX, "A"): ["127.0.0.1", STALE] if "stale-address" in faults else ["127.0.0.1"],
        (CANONICAL, "A"): ["127.0.0.1"],
        (f"api.{APEX}", "A"): ["127.0.0.1"],
        (f"admin.{APEX}", "A"): ["127.0.0.1"],
        (f"mail.{APEX}", "A"): ["127.0.0.1"],
        (APEX, "MX"): [f"10 mail.{APEX}."],
        (APEX, "TXT"): [_txt(spf)],
        ("_spf.mail.example.test", "TXT"): [_txt("v=spf1 ip4:127.0.0.1 -all")],
        (f"_dmarc.{APEX}", "TXT"): [_txt(f"v=DMARC1; p={policy}; rua=mailto:dmarc@{APEX}")],
        (f"{SELECTOR}._domainkey.{APEX}", "TXT"): [_txt(f"v=DKIM1; k=rsa; p={p}")],
        (APEX, "CAA"): ['0 issue "letsencrypt.org"'],
        (APEX, "NS"): [f"ns1.{APEX}.", f"ns2.{APEX}."],  # who serves the zone: the handover pack says
    }
    records.update({(f"i{n}.example.test", "TXT"): [_txt("v=spf1 -all")] for n in range(11)})
    drops = {"no-dmarc": (f"_dmarc.{APEX}", "TXT"), "no-dkim": (f"{SELECTOR}._domainkey.{APEX}", "TXT"),
             "no-caa": (APEX, "CAA"), "no-mx": (APEX, "MX")}  # fmt: skip
    for fault, key in drops.items():
        if fault in faults:
            del records[key]
    return records


@dataclass
class Demo:
    """The running demo: its config file, the site (with the app's users and bookings) and the inbox."""

    faults: frozenset[str] = frozenset()
    config: Path = Path()
    site: Edge = field(default_factory=Edge)
    inbox: Inbox = field(default_factory=Inbox)
    dns: DnsServer | None = None

    @property
    def target(self) -> str:
        return f"https://{CANONICAL}/"

    def leftovers(self) -> str:
        """What the gate left in the app (flows and security checks delete their users and bookings)."""
        users, bookings = len(self.site.users), len(self.site.bookings)
        if not users and not bookings:
            return "Left behind: no users, no bookings."
        return f"Left behind: {users} user(s), {bookings} booking(s) (a cleanup did not run to its end)."


def _certificate_dates(faults: frozenset[str]) -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    if "expired-cert" in faults:
        return now - timedelta(days=90), now - timedelta(days=1)
    if "expiring-cert" in faults:
        return now - timedelta(days=87), now + timedelta(days=3)
    return now - timedelta(days=1), now + timedelta(days=89)


def flows_toml(mailbox_url: str = "http://127.0.0.1:8025") -> str:
    """The demo's smoke flows (the marketplace path), reading mail from the inbox API at `mailbox_url`."""
    text = (Path(__file__).parent / "flows.toml").read_text(encoding="utf-8")
    return text.replace('url = "http://127.0.0.1:8025"', f'url = "{mailbox_url}"')


def _config(
    dns: DnsServer, http_port: int, https_port: int, ca_file: Path, mail_api: int, rdap_url: str = ""
) -> str:
    # Ports only: the names themselves resolve through the demo's nameserver, as a browser's would.
    routes = [f"{h}:{p}::{to}" for h in (CANONICAL, APEX) for p, to in ((80, http_port), (443, https_port))]
    registry = f'rdap-url = "{rdap_url}"\n' if rdap_url else ""  # the demo's registry (demo/rdap.py)
    return (
        "# Written by launch-gate demo: the demo deployment, reached through public settings only.\n"
        f'environment = "demo"\ntarget = "https://{CANONICAL}/"\ntimeout = 60\n\n'
        f'[net]\nnameservers = ["{dns.address}"]\nconnect-to = {routes!r}\n'
        f'ca-bundle = "{ca_file}"\nprobe-timeout = 5\n{registry}\n'
        '[dns]\nsubdomains = ["api", "admin"]\n\n'
        '[headers]\ncors-paths = ["/", "/api/coaches"]\n\n'
        f'[email]\ndkim-selectors = ["{SELECTOR}"]\n\n'
        "[latency]\nrate = 20\nduration = 3\nwarmup = 0.5\n\n"
        '[latency.routes]\nhome = "/"\nsearch = "/api/coaches?q=yoga"\nbooking = "/api/coaches/1/slots"\n\n'
    ).replace("'", '"') + flows_toml(f"http://127.0.0.1:{mail_api}")


@contextmanager
def running(faults: Iterable[str] = (), delay: float = 0.0) -> Iterator[Demo]:
    """Start everything, yield the demo, stop everything (also on errors). `delay`: seconds per response."""
    chosen = frozenset(faults)
    unknown = chosen - FAULTS
    if unknown:
        raise ValueError(
            f"unknown demo faults: {', '.join(sorted(unknown))}; known: {', '.join(sorted(FAULTS))}"
        )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="launch-gate-demo-")))
        inbox, smtp_port = stack.enter_context(smtp_server())
        site = Edge(
            faults=set(chosen & (EDGE_FAULTS | APP_FAULTS | SECURITY_FAULTS | INPUT_FAULTS | RELEASE_FAULTS)),
            mailer=Sender(smtp_port, APEX, SELECTOR, private, tamper="bad-dkim" in chosen),
            delay=delay,
            log_file=tmp / "app.log",  # [security.logs] file = "app.log"
        )
        dns = stack.enter_context(DnsServer(zone(public, chosen)).running())
        dns.mode = "servfail" if "dns-servfail" in chosen else "drop" if "dns-timeout" in chosen else "answer"
        http_port = stack.enter_context(http_server(site))
        names = ["www.wrong.test"] if "wrong-host-cert" in chosen else [CANONICAL, APEX]
        not_before, not_after = _certificate_dates(chosen)
        ca = trustme.CA()
        https_port, ca_file = stack.enter_context(tls_server(site, names, tmp, not_before, not_after, ca))
        if "stale-address" in chosen:  # Linux routes all of 127.0.0.0/8 to loopback; macOS needs an alias
            old = Edge(faults={"temporary-redirect"})
            stack.enter_context(http_server(old, host=STALE, port=http_port))
            stack.enter_context(
                tls_server(old, [CANONICAL, APEX], tmp / "stale", ca=ca, host=STALE, port=https_port)
            )
        config = tmp / "launch-gate.toml"
        mail_api = stack.enter_context(http_server(inbox))  # the inbox, as a Mailpit-compatible API
        rdap_port = stack.enter_context(http_server(Registry.with_faults(chosen)))  # the demo's registry
        rdap_url = f"http://127.0.0.1:{rdap_port}/"
        config.write_text(_config(dns, http_port, https_port, ca_file, mail_api, rdap_url), encoding="utf-8")
        yield Demo(chosen, config, site, inbox, dns)
