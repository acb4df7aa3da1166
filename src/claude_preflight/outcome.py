"""What a check ends with: a status, a summary, the evidence and what to do about it."""

from __future__ import annotations

import enum
from pathlib import Path

from claude_preflight.records import dataclass, field


class Status(str, enum.Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"  # a bug of claude-preflight's (a probe raised, a check hung): not a verdict about the machine

    @property
    def rank(self) -> int:
        """Severity order for "worst status" summaries."""
        return {"skip": 0, "ok": 1, "warn": 2, "fail": 3, "error": 4}[self.value]


@dataclass(frozen=True)
class Result:
    """The outcome of one check on one target.

    `remediation` says why this crashes Claude Code and gives the exact commands to run;
    every non-ok result must carry one (the plugin enforces it).
    """

    status: Status
    summary: str
    evidence: tuple[str, ...] = ()
    remediation: str = ""
    docs: str | None = None
    extra: dict = field(default_factory=dict, compare=False)

    def text(self) -> str:
        """Everything a person reads, in one string (for searching and redaction tests)."""
        return "\n".join([self.summary, *self.evidence, self.remediation])


def ok(summary: str, *evidence: str) -> Result:
    return Result(Status.OK, summary, tuple(evidence))


def skip(reason: str, *evidence: str) -> Result:
    return Result(Status.SKIP, reason, tuple(evidence))


def warn(summary: str, *evidence: str, remediation: str, docs: str | None = None) -> Result:
    return Result(Status.WARN, summary, tuple(evidence), remediation, docs)


def fail(summary: str, *evidence: str, remediation: str, docs: str | None = None) -> Result:
    return Result(Status.FAIL, summary, tuple(evidence), remediation, docs)


def worst(statuses) -> Status:
    """The most severe status of an iterable (SKIP when empty)."""
    return max(statuses, key=lambda s: s.rank, default=Status.SKIP)


@dataclass(frozen=True)
class Finding:
    """One problem among several that a rule weighs together."""

    status: Status
    summary: str
    remediation: str


def combine(findings: list[Finding], evidence: list[str], healthy: str, docs: str | None = None) -> Result:
    """The worst finding decides the status and leads the summary; every remediation is kept, worst first."""
    if not findings:
        return ok(healthy, *evidence)
    ordered = sorted(findings, key=lambda f: -f.status.rank)
    summary = "; ".join(f.summary for f in ordered)
    remediation = "\n".join(dict.fromkeys(f.remediation for f in ordered))
    return Result(ordered[0].status, summary, tuple(evidence), remediation, docs)


@dataclass(frozen=True)
class Repair:
    """What one --fix did to one file: the action and its backup, or why it refused."""

    path: Path
    action: str = ""
    backup: Path | None = None
    refused: str | None = None

    @property
    def done(self) -> bool:
        return self.refused is None and self.backup is not None
