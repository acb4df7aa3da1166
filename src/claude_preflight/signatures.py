"""Crash signatures: the texts Claude Code fails with, mapped to their cause, category and fix.

One table (data/crash-signatures.json) and one matcher, shared by the transcript check
(sessions.crash-signatures) and `claude-preflight diagnose`. Users paste what their terminal showed:
coloured, wrapped, garbled by a wrong code page, JSON-escaped inside a bug report. `clean` undoes
that before any pattern runs, so the table can be written against the plain message.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources

from claude_preflight.records import dataclass

# ANSI/VT escape sequences (CSI, OSC, two-byte ESC forms): removed, never echoed.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]|\x9b[0-?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# UTF-8 text decoded as cp1252/latin-1 (PowerShell, old consoles): the usual pairs, repaired in place.
_MOJIBAKE = {
    "Â·": "·",
    "â€™": "’",
    "â€˜": "‘",
    "â€œ": "“",
    "â€\x9d": "”",
    "â€¦": "…",
    "â€”": "—",
    "â€“": "–",
    "âŽ¿": "⎿",
    "â\x8e¿": "⎿",
    "Ã©": "é",
    "Â ": " ",
}
_MOJIBAKE_RE = re.compile("|".join(re.escape(k) for k in _MOJIBAKE))
# Escaping a message picks up on its way into a paste: JSON inside JSON (\" and \\n), shell quoting ('\'').
_UNESCAPE = re.compile(r"\\+\"|(?<!\\)\\[nrt](?=[\s\\]|$)|'\\''|'\"'\"'|\\u00b7|\\u2019")
_UNESCAPED = {"'\\''": "'", "'\"'\"'": "'", "\\u00b7": "·", "\\u2019": "’"}
_FRAME = re.compile(r"[│┃║⎿⏺●❯]+|^\s*(?:>\s*)+")
_SPACE = re.compile(r"\s+")
_COMMON = " etaoinsrhldcum:-./pgfwybv,k"  # by frequency in log text; anything else counts as rarer
_DIGITS = re.compile(r"[0-9]+")


def _rarity(char: str) -> int:
    return _COMMON.find(char) if char in _COMMON else len(_COMMON)


def _unescape(match: re.Match) -> str:
    text = match.group(0)
    if text in _UNESCAPED:
        return _UNESCAPED[text]
    return '"' if text.endswith('"') else " "


def clean(text: str) -> str:
    """The line as a user meant it: no escape sequences or control characters, mojibake and escaping undone."""
    if "\x1b" in text or "\x9b" in text:
        text = _ANSI.sub("", text)
    text = _CONTROL.sub(" ", text)
    if "Â" in text or "â" in text or "Ã" in text:
        text = _MOJIBAKE_RE.sub(lambda m: _MOJIBAKE[m.group(0)], text)
    if "\\" in text or "'" in text:
        text = _UNESCAPE.sub(_unescape, text)
    return text


def flat(text: str) -> str:
    """A cleaned line for joining with its neighbours: box-drawing frames and runs of space collapsed."""
    return _SPACE.sub(" ", _FRAME.sub(" ", text)).strip()


@dataclass(frozen=True)
class Cause:
    id: str
    title: str
    fix: str
    checks: tuple[str, ...]
    in_transcripts: bool = False
    next_override: str | None = None

    @property
    def label(self) -> str:
        return self.title

    @property
    def next_command(self) -> str:
        """The claude-preflight command that checks this cause on this machine ('' when no check applies)."""
        if self.next_override:
            return self.next_override
        if not self.checks:
            return ""
        return f'claude-preflight -k "{" or ".join(self.checks)}"'


@dataclass(frozen=True)
class Signature:
    id: str
    cause: Cause
    title: str
    category: str
    patterns: tuple[re.Pattern, ...]
    requires: tuple[re.Pattern, ...] = ()
    unless: tuple[re.Pattern, ...] = ()
    anchors: tuple[str, ...] = ()  # per pattern, a lowercase literal every match of it contains

    def search(self, text: str) -> re.Match | None:
        for pattern in self.patterns:
            found = pattern.search(text)
            if found:
                return found
        return None

    def fits(self, context: str) -> bool:
        """Its context holds what the match needs (requires) and nothing that names another cause (unless)."""
        if not self.requires and not self.unless:
            return True
        lowered = context.lower()
        for pattern in self.unless:
            literal = anchor(pattern.pattern)
            if (len(literal) >= 3 and literal not in lowered) or not pattern.search(context):
                continue
            return False
        return all(pattern.search(context) for pattern in self.requires)

    def matches(self, line: str) -> bool:
        return bool(self.search(line)) and self.fits(line)


@dataclass(frozen=True)
class Hit:
    signature: Signature
    first: int  # index (in the window) of the line the match starts on
    last: int  # index of the line it ends on
    start: int = 0  # where in that line the match starts


@dataclass(frozen=True)
class Table:  # frozen: the cached properties below live in __dict__
    causes: dict[str, Cause]
    signatures: tuple[Signature, ...]
    anything: re.Pattern  # every pattern at once: the fast "could this line match?" test

    def match(self, line: str) -> Signature | None:
        """The first signature, in table order, that matches one line (a transcript's error text).

        Cached by line: each session check asks about the same error lines, and a retry storm repeats one."""
        cache = self._match_cache
        if line in cache:
            return cache[line]
        text = flat(clean(line))
        found = None
        if self.anything.search(text):
            found = next((sig for sig in self.signatures if sig.matches(text)), None)
        if len(cache) > 8192:
            cache.clear()
        cache[line] = found
        return found

    @functools.cached_property
    def _match_cache(self) -> dict[str, Signature | None]:
        return {}

    def candidates(self, line: str) -> frozenset[int]:
        """Indexes of the signatures one of whose anchors occurs in a (cleaned, flattened) line.

        Anchors without digits are looked up in the line with its digits removed, and that answer is
        cached: log lines that differ only in timestamps and counters share it. The few anchors with
        digits are looked for in the line itself.
        """
        lowered = line.lower()
        found = set(self._letter_candidates(_DIGITS.sub("", lowered)))
        for anchor, owners in self._digit_anchors:
            if anchor in lowered:
                found.update(owners)
        return frozenset(found)

    def _letter_candidates(self, lowered: str) -> frozenset[int]:
        cache = self._candidate_cache
        if lowered in cache:
            return cache[lowered]
        found: set[int] = set()
        by_rarest = self._by_rarest
        for char in by_rarest.keys() & set(lowered):
            for anchor, owners in by_rarest[char]:
                if anchor in lowered:
                    found.update(owners)
        if len(cache) > 8192:
            cache.clear()
        cache[lowered] = frozenset(found)
        return cache[lowered]

    @functools.cached_property
    def _candidate_cache(self) -> dict[str, frozenset[int]]:
        return {}

    @functools.cached_property
    def _digit_anchors(self) -> list[tuple[str, tuple[int, ...]]]:
        return [(anchor, owners) for anchor, owners in self._owners.items() if _DIGITS.search(anchor)]

    @functools.cached_property
    def _by_rarest(self) -> dict[str, list[tuple[str, tuple[int, ...]]]]:
        # Each anchor filed under its rarest character: a line without that character skips it unread.
        grouped: dict[str, list[tuple[str, tuple[int, ...]]]] = {}
        for anchor, owners in self._owners.items():
            if not _DIGITS.search(anchor):
                grouped.setdefault(max(anchor, key=_rarity), []).append((anchor, owners))
        return grouped

    def match_window(self, lines: list[str], at: int, candidates: list[frozenset[int]] | None = None) -> Hit | None:
        """The first signature matching at line `at` of `lines` (already cleaned and flattened).

        The match may run on into the next two lines (a message wrapped by the terminal) but must start
        on line `at`; requires/unless look at the whole window (a line before, two after). Only
        signatures one of whose anchors occurs in the line or the two after it run their patterns
        (`candidates`, per line, when the caller has them already).
        """
        line = lines[at]
        if not line:
            return None
        after = lines[at + 1 : at + 3]
        if candidates is None:
            candidates = [self.candidates(text) for text in lines]
        # An anchor can be cut by a wrap; the joined text is searched for anchors only when the lines gave none.
        indexes = set().union(*candidates[at : at + 3])
        joined = " ".join([line, *after])
        if not indexes:
            indexes = self.candidates(joined)
            if not indexes:
                return None
        context = " ".join(lines[max(0, at - 1) : at + 3])
        # Offsets where each following line starts in `joined`, to tell which line a match ends on.
        starts, offset = [], len(line) + 1
        for extra in after:
            starts.append(offset)
            offset += len(extra) + 1
        for index in sorted(indexes):
            sig = self.signatures[index]
            found = sig.search(line) or sig.search(joined)
            if found is None or found.start() >= len(line) or not sig.fits(context):
                continue
            last = at + sum(1 for s in starts if found.end() > s)
            return Hit(sig, at, last, found.start())
        return None

    @functools.cached_property
    def _owners(self) -> dict[str, tuple[int, ...]]:
        owners: dict[str, list[int]] = {}
        for index, sig in enumerate(self.signatures):
            for anchor in sig.anchors:
                owners.setdefault(anchor, []).append(index)
        return {anchor: tuple(dict.fromkeys(found)) for anchor, found in owners.items()}

    def anchors(self) -> list[bytes]:
        """Every anchor, as bytes; one that contains another is covered by the shorter one."""
        found = set(self._owners)
        return sorted(a.encode() for a in found if not any(b != a and b in a for b in found))

    def transcript_causes(self) -> list[Cause]:
        """The causes an API error line in a transcript can show (sessions.crash-signatures targets)."""
        return [cause for cause in self.causes.values() if cause.in_transcripts]

    def categories(self) -> list[str]:
        """Every category id, in table order: the documented, stable list."""
        return list(dict.fromkeys(sig.category for sig in self.signatures))


@functools.cache
def anchor(pattern: str) -> str:
    """The longest literal every match of a pattern contains, lowercased.

    Quotes, backslashes and non-ASCII characters end a literal: a pasted message may carry them
    JSON-escaped or garbled, so raw bytes need not hold them as written.
    """
    try:
        from re import _constants as constants
        from re import _parser as parser
    except ImportError:  # Python 3.10
        import sre_constants as constants  # type: ignore[no-redef]
        import sre_parse as parser  # type: ignore[no-redef]
    runs, current = [], ""
    for op, value in parser.parse(pattern):
        if op == constants.LITERAL and chr(value) not in "\"'\\`" and value < 128:
            current += chr(value)
        else:
            runs.append(current)
            current = ""
    runs.append(current)
    return max(runs, key=lambda run: len(run.strip())).strip().lower()


def _causes(document: dict) -> dict[str, Cause]:
    return {
        cause_id: Cause(
            cause_id,
            c["title"],
            c["fix"],
            tuple(c["checks"]),
            c.get("in_transcripts", False),
            c.get("next"),
        )
        for cause_id, c in document["causes"].items()
    }


def parse(document: dict) -> Table:
    causes = _causes(document)

    def compiled(patterns: list[str], case_sensitive: bool) -> tuple[re.Pattern, ...]:
        flags = re.MULTILINE | (0 if case_sensitive else re.IGNORECASE)
        return tuple(re.compile(p, flags) for p in patterns)

    signatures = tuple(
        Signature(
            s["id"],
            causes[s["cause"]],
            s["title"],
            s["category"],
            compiled(s["patterns"], s.get("case_sensitive", False)),
            compiled(s.get("requires", []), False),
            compiled(s.get("unless", []), False),
            tuple(anchor(p) for p in s["patterns"]),
        )
        for s in document["signatures"]
    )
    anything = re.compile(
        "|".join(f"(?:{p.pattern})" for sig in signatures for p in sig.patterns), re.MULTILINE | re.IGNORECASE
    )
    return Table(causes, signatures, anything)


@functools.cache
def _document() -> dict:
    text = resources.files("claude_preflight").joinpath("data/crash-signatures.json").read_text(encoding="utf-8")
    return json.loads(text)


@functools.cache
def table() -> Table:
    return parse(_document())


def transcript_causes() -> list[Cause]:
    """The causes an API error line in a transcript can show (sessions.crash-signatures targets), without
    compiling the table: a run whose transcripts hold no API error never needs its ~150 patterns."""
    return [cause for cause in _causes(_document()).values() if cause.in_transcripts]


def raw_patterns() -> list[str]:
    """Every pattern of the table as written (for the grep prefilter and its tests)."""
    text = resources.files("claude_preflight").joinpath("data/crash-signatures.json").read_text(encoding="utf-8")
    return [p for s in json.loads(text)["signatures"] for p in s["patterns"]]


# What sessions.crash-signatures matches against when no transcript holds an error line: nothing to match.
NO_SIGNATURES = Table({}, (), re.compile(r"(?!)"))
