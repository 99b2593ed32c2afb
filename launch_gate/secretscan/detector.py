"""The one adapter over detect-secrets.

detect-secrets keeps its settings in a process-wide singleton; this module configures it once per process
(every built-in plugin, the default filters, never the network verification filters, no pragma filter: we
apply pragmas ourselves so a bundle scan can ignore them) and exposes two things:

- `Guards`: cheap searches that find every line on which some detector *could* report a secret. Each is
  derived from the plugins themselves (their regexes, keyword list and entropy limits), optionally behind
  literal anchors that any match must contain, so the slow regexes only run on a few lines.
- `analyze`: detect-secrets' own per-line processing (filters, then plugins, then secret filters), run on the
  candidate lines only, with the same transformer passes its `scan_file` makes.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import io
import itertools
import math
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from detect_secrets.core import scan as ds_scan
from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.filters.allowlist import is_line_allowlisted
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
from detect_secrets.plugins.keyword import (
    DENYLIST,
    QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP,
    REGEX_BY_FILETYPE,
    KeywordDetector,
)
from detect_secrets.settings import get_filters, get_plugins, get_settings
from detect_secrets.transformers import get_transformed_file
from detect_secrets.types import NamedIO
from detect_secrets.util.code_snippet import get_code_snippet
from detect_secrets.util.filetype import FileType, determine_file_type

# The gate's own placeholder rules (env.placeholders), so `changeme` is not a secret here either; only a
# value that is a placeholder as a whole, so `todo-Xk29…` still is.
from launch_gate.rules.placeholders import whole_placeholder_kind

NEVER = (
    "detect_secrets.filters.common.is_ignored_due_to_verification_policies",  # would call the provider's API
    "detect_secrets.filters.allowlist.is_line_allowlisted",  # applied by us, per scan
)
_FLAGS = {re.IGNORECASE: "i", re.MULTILINE: "m", re.DOTALL: "s", re.VERBOSE: "x"}

# Literals every match of a slow detector pattern must contain (case-folded where the pattern ignores case),
# keyed by (plugin class, pattern index). A pattern not listed here is searched over the whole text instead:
# slower, never less complete.
_KEYWORDY = ("key", "pw", "pass", "token")
ANCHORS: dict[tuple[str, int], tuple[str, ...]] = {
    ("ArtifactoryDetector", 0): ("AKC",),
    ("ArtifactoryDetector", 1): ("AP",),
    ("AWSKeyDetector", 1): ("aws",),
    ("CloudantDetector", 0): _KEYWORDY,
    ("CloudantDetector", 1): _KEYWORDY,
    ("CloudantDetector", 2): ("cloudant",),
    ("CloudantDetector", 3): ("cloudant",),
    ("IbmCloudIamDetector", 0): _KEYWORDY,
    ("IbmCosHmacDetector", 0): ("key",),
    ("MailchimpDetector", 0): ("-us",),
    ("SoftlayerDetector", 0): _KEYWORDY,
    ("SoftlayerDetector", 1): ("softlayer",),
    ("SlackDetector", 0): ("xox",),
    ("SlackDetector", 1): ("hooks.slack.com",),
    ("StripeDetector", 0): ("k_live_",),
}
KEYWORD_ANCHORS = ("key", "pass", "pwd", "secret", "contrase")
# IPv4 has no literal to anchor on; a digit-dot-digit run is necessary for any address.
SEEKS: dict[tuple[str, int], str] = {("IPPublicDetector", 0): r"\d\.\d{1,3}\.\d"}

_lock = threading.Lock()
_configured = False


def configure() -> None:
    """Every built-in plugin and the default filters, minus network verification and pragmas. Idempotent."""
    global _configured
    with _lock:
        if _configured:
            return
        settings = get_settings()
        plugin_classes: list[type] = list(get_mapping_from_secret_type_to_class().values())
        settings.configure_plugins([{"name": cls.__name__} for cls in plugin_classes])
        settings.disable_filters(*[f for f in NEVER if f in settings.filters])
        get_plugins.cache_clear()
        get_filters.cache_clear()
        _configured = True


def active_filters() -> list[str]:
    configure()
    return sorted(get_settings().filters)


def _inline(pattern: re.Pattern[str]) -> str:
    flags = "".join(v for k, v in _FLAGS.items() if pattern.flags & k)
    return f"(?{flags}:{pattern.pattern})" if flags else f"(?:{pattern.pattern})"


@dataclass(frozen=True)
class Guard:
    """Finds lines a detector could report on: `seek` (or `anchors`) over the text, then `confirm` per line."""

    name: str
    confirm: Callable[[str], object]
    anchors: tuple[str, ...] = ()
    fold: bool = False
    seek: re.Pattern[str] | None = None


def _entropy_guard(plugin: HighEntropyStringsPlugin) -> Guard:
    """Quoted runs of the plugin's charset whose entropy passes its limit, as the plugin itself decides."""
    # Shannon entropy of n characters is at most log2(n): shorter quoted runs cannot pass the limit.
    shortest = math.floor(2**plugin.entropy_limit) + 1
    seek = re.compile(f"['\"][{re.escape(plugin.charset)}]{{{shortest},}}")

    def confirm(line: str) -> bool:
        return any(
            plugin.calculate_shannon_entropy(value) > plugin.entropy_limit
            for value in plugin.analyze_string(line)
        )

    return Guard(type(plugin).__name__, confirm, seek=seek)


def _keyword_guard(plugin: KeywordDetector, filetype: FileType) -> Guard:
    """Lines the keyword plugin's own regexes for this file type match, found via their keywords."""
    assert all(any(a in k.replace("_?", "") for a in KEYWORD_ANCHORS) for k in DENYLIST), (
        "keyword list changed"
    )
    # The table the plugin picks for this file type; searched one by one, as their back-references need.
    patterns = tuple(REGEX_BY_FILETYPE.get(filetype, QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP))

    def confirm(line: str) -> bool:
        return any(p.search(line) for p in patterns)

    return Guard(type(plugin).__name__, confirm, KEYWORD_ANCHORS, fold=True)


def _plugin_guards(plugin: Any, filetype: FileType) -> Iterator[Guard]:
    name = type(plugin).__name__
    if isinstance(plugin, RegexBasedDetector):
        for index, pattern in enumerate(plugin.denylist):
            confirm = re.compile(_inline(pattern))
            fold = bool(pattern.flags & re.IGNORECASE)
            anchors = ANCHORS.get((name, index), ())
            seek = SEEKS.get((name, index))
            if anchors:
                folded = tuple(a.lower() for a in anchors) if fold else anchors
                yield Guard(name, confirm.search, folded, fold)
            else:
                yield Guard(name, confirm.search, seek=re.compile(seek) if seek else confirm)
    elif isinstance(plugin, HighEntropyStringsPlugin):
        yield _entropy_guard(plugin)
    elif isinstance(plugin, KeywordDetector):
        yield _keyword_guard(plugin, filetype)
    else:  # an unknown plugin: every line is a candidate
        yield Guard(name, lambda line: True, seek=re.compile(r"^", re.M))


@functools.cache
def guards(filetype: FileType = FileType.OTHER) -> tuple[Guard, ...]:
    """The guards for the configured plugins and a file type, built once per process."""
    configure()
    return tuple(g for plugin in get_plugins() for g in _plugin_guards(plugin, filetype))


class _Joined:
    """Lines joined into one searchable text, and the way back from an offset to a 1-based line number.

    Lines may come with or without their newline (detect-secrets' transformers drop it) and may hold
    newlines of their own (a YAML block scalar is one transformed line): numbers come from where each line
    starts, never from counting newlines.
    """

    def __init__(self, lines: Iterable[str]) -> None:
        parts = [line.removesuffix("\n") for line in lines]
        self.starts = list(itertools.accumulate((len(p) + 1 for p in parts[:-1]), initial=0))
        self.text = "\n".join(parts)

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def lines_of(self, offsets: Iterable[int]) -> set[int]:
        return {self.line_of(offset) for offset in offsets}

    def anchored(self, anchor: str) -> set[int]:
        offsets = []
        at = self.text.find(anchor)
        while at != -1:
            offsets.append(at)
            at = self.text.find(anchor, at + 1)
        return self.lines_of(offsets)


def candidate_lines(lines: Sequence[str], all_guards: Sequence[Guard]) -> dict[int, set[str]]:
    """The lines on which some detector could report something, each with the plugins that could."""
    joined = _Joined(lines)
    folded: _Joined | None = None  # case-folded line by line: lower() may change a line's length
    anchored: dict[tuple[str, bool], set[int]] = {}  # several guards share anchors: find each once
    found: dict[int, set[str]] = {}
    for guard in all_guards:
        if guard.seek is not None:
            numbers = joined.lines_of(m.start() for m in guard.seek.finditer(joined.text))
        else:
            if guard.fold and folded is None:
                folded = _Joined(line.lower() for line in lines)
            haystack = folded if guard.fold and folded is not None else joined
            numbers = set()
            for anchor in guard.anchors:
                key = (anchor, guard.fold)
                if key not in anchored:
                    anchored[key] = haystack.anchored(anchor)
                numbers |= anchored[key]
        for number in numbers:
            plugins = found.get(number)
            if plugins is not None:
                plugins.add(guard.name)  # already a candidate: let this plugin look too, unconfirmed
            elif guard.confirm(lines[number - 1]):
                found[number] = {guard.name}
    return found


@dataclass(frozen=True)
class Hit:
    """One secret detect-secrets reports: never holds the secret, only detect-secrets' SHA-1 of it."""

    type: str
    line: int
    hashed_secret: str
    allowlisted: bool
    placeholder: str | None = None  # the placeholder shape the value has (`changeme`), None for a real one


def _analyze_lines(filename: str, lines: Sequence[str], candidates: dict[int, set[str]]) -> list[Hit]:
    """detect-secrets' `_process_line_based_plugins`, on the candidate lines only (with full context), each
    with only the plugins whose guards flagged it."""
    content = list(lines)
    hits = []
    for number in sorted(candidates):
        names = candidates[number]
        line = content[number - 1].rstrip()
        snippet = get_code_snippet(lines=content, line_number=number)
        if ds_scan._is_filtered_out(["line"], filename=filename, line=line, context=snippet):
            continue
        for plugin in get_plugins():
            if type(plugin).__name__ not in names:
                continue
            for secret in ds_scan._scan_line(
                plugin=plugin, filename=filename, line=line, line_number=number, context=snippet
            ):
                if ds_scan._is_filtered_out(
                    ["context"],
                    filename=secret.filename,
                    secret=secret.secret_value,
                    plugin=plugin,
                    line=line,
                    context=snippet,
                ):
                    continue
                allowed = bool(is_line_allowlisted(filename, line, snippet))
                kind = whole_placeholder_kind(secret.secret_value or "")
                hits.append(Hit(secret.type, number, secret.secret_hash, allowed, kind))
    return hits


class _Named(io.StringIO):
    """An in-memory file with a name, as detect-secrets' transformers expect."""

    def __init__(self, text: str, name: str) -> None:
        super().__init__(text)
        self.name = name


_STATEMENT_END = re.compile(r"(?<=[;,{}])")


def analyze_bundle(filename: str, text: str) -> list[Hit]:
    """A built client bundle: minified code is one huge line, and one indirect reference anywhere on a line
    makes detect-secrets skip all of it; so look at it statement by statement. Pragmas do not apply."""
    configure()
    pieces: list[str] = []
    origin: list[int] = []
    for number, line in enumerate(split_lines(text), start=1):
        line = line.removesuffix("\n")
        parts = _STATEMENT_END.split(line)
        pieces += [part + "\n" for part in parts]
        origin += [number] * len(parts)
    all_guards = guards(determine_file_type(filename))
    found = _analyze_lines(filename, pieces, candidate_lines(pieces, all_guards))
    return _first_of_each([dataclasses.replace(h, line=origin[h.line - 1]) for h in found])


def analyze(filename: str, text: str) -> list[Hit]:
    """What `detect-secrets scan` reports for this file's text: one hit per (type, secret), first line kept.

    Lines marked `pragma: allowlist secret` are dropped, as detect-secrets drops them.
    """
    configure()
    if ds_scan._is_filtered_out(["filename"], filename=filename):
        return []
    all_guards = guards(determine_file_type(filename))
    hits: list[Hit] = []
    for eager in (False, True):
        lines = get_transformed_file(cast(NamedIO, _Named(text, filename)), use_eager_transformers=eager)
        if not lines:
            if eager:
                break
            lines = split_lines(text)
        found = _analyze_lines(filename, lines, candidate_lines(lines, all_guards))
        hits = [h for h in found if not h.allowlisted]
        if hits:
            break
    if is_dotenv(filename):
        # detect-secrets misses unquoted values (`DB_PASSWORD=s3cr3t`): quote them and look again.
        quoted = [_quote_dotenv(line) for line in split_lines(text)]
        found = _analyze_lines(filename, quoted, candidate_lines(quoted, all_guards))
        hits += [h for h in found if not h.allowlisted]
    return _first_of_each(hits)


def split_lines(text: str) -> list[str]:
    """Lines as detect-secrets reads them (a text-mode file): split at newlines only, never at \\f or U+2028."""
    return io.StringIO(text, newline="\n").readlines()


_DOTENV_LINE = re.compile(
    r"^(\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.]*\s*=\s*)([^'\"\s#][^\s#]*)(.*)$", re.DOTALL
)
_DOTENV_TEMPLATES = (".example", ".sample", ".template", ".dist", ".defaults")


def is_dotenv(filename: str) -> bool:
    """`.env`, `.env.production`, `prod.env`; not the committed templates (`.env.example`)."""
    name = filename.rsplit("/", 1)[-1]
    dotenv = name == ".env" or name.startswith(".env.") or name.endswith(".env")
    return dotenv and not name.endswith(_DOTENV_TEMPLATES)


def _quote_dotenv(line: str) -> str:
    match = _DOTENV_LINE.match(line)
    return f'{match[1]}"{match[2]}"{match[3]}' if match else line


def _first_of_each(hits: list[Hit]) -> list[Hit]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for hit in sorted(hits, key=lambda h: h.line):
        if (hit.type, hit.hashed_secret) not in seen:
            seen.add((hit.type, hit.hashed_secret))
            unique.append(hit)
    return unique
