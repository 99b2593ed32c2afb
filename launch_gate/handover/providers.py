"""Who a DNS name belongs to, as a founder would say it: `*.ns.cloudflare.com` is Cloudflare DNS,
`aspmx.l.google.com` Google Workspace, `include:sendgrid.net` SendGrid. Pure: names in, providers out."""

from __future__ import annotations

from collections.abc import Iterable

# a name's ending -> the provider (the first that matches, so more specific endings come first)
DNS_HOSTS = (
    (".ns.cloudflare.com", "Cloudflare DNS"), ("awsdns-", "Amazon Route 53"), (".domaincontrol.com", "GoDaddy"),
    (".registrar-servers.com", "Namecheap"), (".googledomains.com", "Google Cloud DNS / Google Domains"),
    (".squarespacedns.com", "Squarespace"), (".azure-dns.", "Azure DNS"),
    (".dnsimple.com", "DNSimple"), (".dnsimple-edge.", "DNSimple"), (".digitalocean.com", "DigitalOcean"),
    (".vercel-dns.com", "Vercel"), (".nsone.net", "NS1"), (".dynect.net", "Oracle Dyn"),
    (".netlify.com", "Netlify DNS"), (".gandi.net", "Gandi"), (".ovh.net", "OVHcloud"),
    (".hetzner.com", "Hetzner"), (".linode.com", "Akamai (Linode)"), (".porkbun.com", "Porkbun"),
    (".name.com", "Name.com"), (".hover.com", "Hover"), (".dnsmadeeasy.com", "DNS Made Easy"),
    (".ultradns.", "UltraDNS"), (".akam.net", "Akamai Edge DNS"), (".bunny.net", "Bunny DNS"),
    (".wixdns.net", "Wix"), (".ui-dns.", "IONOS"),
)  # fmt: skip
MAIL_HOSTS = (
    (".google.com", "Google Workspace"), (".googlemail.com", "Google Workspace"),
    (".mail.protection.outlook.com", "Microsoft 365"), (".zoho.com", "Zoho Mail"), (".zoho.eu", "Zoho Mail"),
    (".messagingengine.com", "Fastmail"), (".protonmail.ch", "Proton Mail"), (".mailgun.org", "Mailgun"),
    (".amazonaws.com", "Amazon SES / WorkMail"), (".sendgrid.net", "SendGrid"), (".mimecast.com", "Mimecast"),
    (".pphosted.com", "Proofpoint"), (".improvmx.com", "ImprovMX"), (".forwardemail.net", "Forward Email"),
    (".icloud.com", "iCloud Mail"), (".yandex.net", "Yandex Mail"), (".ovh.net", "OVHcloud"),
    (".secureserver.net", "GoDaddy"), (".migadu.com", "Migadu"), (".mx.cloudflare.net", "Cloudflare Email Routing"),
)  # fmt: skip
SPF_INCLUDES = (
    ("_spf.google.com", "Google Workspace"), ("spf.protection.outlook.com", "Microsoft 365"),
    ("sendgrid.net", "SendGrid"), ("mailgun.org", "Mailgun"), ("amazonses.com", "Amazon SES"),
    ("spf.mtasv.net", "Postmark"), ("servers.mcsv.net", "Mailchimp / Mandrill"), ("spf.brevo.com", "Brevo"),
    ("spf.sendinblue.com", "Brevo"), ("zoho.com", "Zoho Mail"), ("zoho.eu", "Zoho Mail"),
    ("messagingengine.com", "Fastmail"), ("protonmail.ch", "Proton Mail"), ("_spf.resend.com", "Resend"),
    ("sparkpostmail.com", "SparkPost"), ("mailjet.com", "Mailjet"), ("_spf.salesforce.com", "Salesforce"),
    ("mail.zendesk.com", "Zendesk"), ("helpscoutemail.com", "Help Scout"), ("_spf.intercom.io", "Intercom"),
    ("customeriomail.com", "Customer.io"), ("spf.mandrillapp.com", "Mandrill"),
)  # fmt: skip


def _provider(name: str, table: tuple[tuple[str, str], ...], whole: bool = False) -> str | None:
    name = name.lower().rstrip(".")
    for part, provider in table:
        if (name == part or name.endswith("." + part)) if whole else (part in f".{name}"):
            return provider
    return None


def providers(names: Iterable[str], table: tuple[tuple[str, str], ...], whole: bool = False) -> list[str]:
    """The providers the names belong to, each once, in the names' order (unknown names are left out).
    `whole`: the table's entries are whole names or parent domains (SPF includes), not name parts."""
    found = [_provider(name, table, whole) for name in names]
    return list(dict.fromkeys(p for p in found if p is not None))


def dns_providers(nameservers: Iterable[str]) -> list[str]:
    return providers(nameservers, DNS_HOSTS)


def mail_providers(exchanges: Iterable[str], includes: Iterable[str]) -> list[str]:
    return list(
        dict.fromkeys([*providers(exchanges, MAIL_HOSTS), *providers(includes, SPF_INCLUDES, whole=True)])
    )
