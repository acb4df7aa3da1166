"""Crash signatures: the texts Claude Code fails with, mapped to their cause and fix.

One table (data/crash-signatures.json) and one matcher, shared by the transcript check
(sessions.crash-signatures) and `claude-preflight diagnose`.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Cause:
    id: str
    title: str
    fix: str
    checks: tuple[str, ...]
    in_transcripts: bool = False

    @property
    def label(self) -> str:
        return self.title

    @property
    def next_command(self) -> str:
        """The claude-preflight command that checks this cause on this machine."""
        return f'claude-preflight -k "{" or ".join(self.checks)}"'


@dataclass(frozen=True)
class Signature:
    id: str
    cause: Cause
    title: str
    patterns: tuple[re.Pattern, ...]

    def matches(self, line: str) -> bool:
        return any(pattern.search(line) for pattern in self.patterns)


@dataclass(frozen=True)
class Table:
    causes: dict[str, Cause]
    signatures: tuple[Signature, ...]
    anything: re.Pattern  # every pattern at once: the fast "could this line match?" test

    def match(self, line: str) -> Signature | None:
        """The first signature, in table order, that matches the line."""
        if not self.anything.search(line):
            return None
        return next((sig for sig in self.signatures if sig.matches(line)), None)

    def transcript_causes(self) -> list[Cause]:
        """The causes an API error line in a transcript can show (sessions.crash-signatures targets)."""
        return [cause for cause in self.causes.values() if cause.in_transcripts]


def parse(document: dict) -> Table:
    causes = {
        cause_id: Cause(cause_id, c["title"], c["fix"], tuple(c["checks"]), c.get("in_transcripts", False))
        for cause_id, c in document["causes"].items()
    }
    signatures = tuple(
        Signature(s["id"], causes[s["cause"]], s["title"], tuple(re.compile(p, re.MULTILINE) for p in s["patterns"]))
        for s in document["signatures"]
    )
    anything = re.compile("|".join(f"(?:{p.pattern})" for sig in signatures for p in sig.patterns), re.MULTILINE)
    return Table(causes, signatures, anything)


@functools.cache
def table() -> Table:
    text = resources.files("claude_preflight").joinpath("data/crash-signatures.json").read_text(encoding="utf-8")
    return parse(json.loads(text))
