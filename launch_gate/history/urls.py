"""URLs as output and the history may hold them (pure): a target without its credentials, and the secret
parts of one for a redactor.

A target can carry a password (`https://deploy:PASSWORD@staging.example.com/`) or a token in its query
(`?access_token=...`): the checks need it, nothing that is printed or stored does. What is shown keeps the
scheme, host, port and path; the userinfo becomes `redacted`, and so does every query and fragment value.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, unquote_plus

MASK = "redacted"  # a plain word: the URL stays one that parsers (urlsplit) and Markdown read as before
_HEAD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*:)?//")
_PAIRS = re.compile(r"[&;]")


def _split(url: str) -> tuple[str, str, str, str, str] | None:
    """(scheme + `//`, userinfo or "", host and port, path, query and fragment with their marks), or None
    for text that is not a URL with an authority."""
    head = _HEAD.match(url)
    if head is None:
        return None
    rest = url[head.end() :]
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    userinfo, at, host = authority.rpartition("@")
    path_end = min((i for i in (tail.find(c) for c in "?#") if i >= 0), default=len(tail))
    return head.group(0), userinfo + at, host, tail[:path_end], tail[path_end:]


def _masked_values(part: str) -> str:
    """`?a=1&b=2#c=3` -> `?a=redacted&b=redacted#c=redacted`; a value without a name is masked whole."""
    out = []
    for mark, body in re.findall(r"([?#])([^?#]*)", part):
        if not body:
            out.append(mark)
            continue
        pairs = []
        for pair in _PAIRS.split(body):
            name, equals, value = pair.partition("=")
            pairs.append(f"{name}={MASK}" if equals and value else pair if equals else MASK)
        out.append(mark + "&".join(pairs))
    return "".join(out)


def public_target(url: str | None) -> str | None:
    """`url` as it may be printed and stored: no userinfo, no query or fragment values."""
    if not url:
        return url
    parts = _split(url)
    if parts is None:
        return MASK if ("@" in url or "?" in url) else url
    head, userinfo, host, path, rest = parts
    return f"{head}{f'{MASK}@' if userinfo else ''}{host}{path}{_masked_values(rest)}"


def target_secrets(url: str | None) -> list[str]:
    """What in `url` is secret, as written and decoded: the password of its userinfo (all of it when it has
    no password: a token), every query and fragment value. For a redactor, with `public_target(url)` as a
    public word."""
    if not url:
        return []
    parts = _split(url)
    if parts is None:
        return [url]
    _, userinfo, _, _, rest = parts
    found: list[str] = []
    if userinfo:
        user, colon, password = userinfo[:-1].partition(":")
        if colon:  # the password; the user name alone is no secret (and would hide every word it holds)
            found += [password, unquote(password)]
        else:  # a token given as the user name (`https://TOKEN@host`)
            found += [user, unquote(user)]
    for _, body in re.findall(r"([?#])([^?#]*)", rest):
        for pair in _PAIRS.split(body):
            name, equals, value = pair.partition("=")
            value = value if equals else name
            if value:
                found += [value, unquote_plus(value)]
    return list(dict.fromkeys(v for v in found if v))
