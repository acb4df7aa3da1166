"""Rules for recent sessions: crash signatures, transcript damage, the session index and the history on disk."""

from __future__ import annotations

import shlex
from pathlib import Path

from claude_preflight.outcome import Repair, Result, Status, fail, ok, skip, warn
from claude_preflight.probes.disk import SessionHistory
from claude_preflight.probes.transcripts import (
    ErrorLine,
    Scan,
    SessionIndex,
    Transcript,
    bytes_by_project,
    largest,
    notable,
)
from claude_preflight.records import dataclass
from claude_preflight.rules.disk import cleanup_command, history_evidence
from claude_preflight.signatures import Cause, Table

DOCS = "https://code.claude.com/docs/en/troubleshooting"
MB = 1_000_000


def _window(days: float) -> str:
    return f"changed in the last {days:g} days" if days > 0 else "all of them (--all-sessions)"


def _nothing_read(days: float) -> Result:
    return skip("no session transcript " + (f"changed in the last {days:g} days" if days > 0 else "at all"))


def shown_text(error: ErrorLine) -> str:
    """The error as Claude Code showed it, with its status when the text lacks it."""
    text = error.text or "(no message)"
    return text if error.status is None or str(error.status) in text else f"{error.status} {text}"


@dataclass(frozen=True)
class SessionFailures:
    scan: Scan
    lines: tuple[ErrorLine, ...]

    @property
    def gave_up(self) -> bool:
        return any(line.final for line in self.lines)

    @property
    def count(self) -> int:
        return sum(line.repeats for line in self.lines)

    def describe(self) -> str:
        last = self.lines[-1]
        first = min(line.since or line.timestamp or "" for line in self.lines)
        when = first or "?"
        if last.timestamp and last.timestamp != first:
            when += f" .. {last.timestamp}"
        outcome = "Claude Code gave up" if self.gave_up else "recovered after retrying"
        return (
            f"session {self.scan.transcript.session_id} ({self.scan.project}), {when}: "
            f'{self.count} x "{shown_text(last)}" ({outcome})'
        )


def failures_of(cause: Cause, scans: list[Scan], table: Table) -> list[SessionFailures]:
    found = []
    for scan in notable(scans):
        lines = []
        for line in scan.errors:
            signature = table.match(shown_text(line))
            if signature and signature.cause.id == cause.id:
                lines.append(line)
        if lines:
            lines.sort(key=lambda line: line.timestamp or "")
            found.append(SessionFailures(scan, tuple(lines)))
    return found


def evaluate_signatures(cause: Cause, scans: list[Scan], table: Table, repeat: int, days: float) -> Result:
    """One cause across recent sessions: repeated in a session warns, in most recent sessions fails."""
    if not scans:
        return _nothing_read(days)
    found = failures_of(cause, scans, table)
    serious = [f for f in found if f.gave_up or f.count >= repeat]
    evidence = [f.describe() for f in found[:10]]
    if len(found) > 10:
        evidence.append(f"... and {len(found) - 10} more session(s)")
    evidence.append(f"{len(scans)} recent session(s) read ({_window(days)})")
    share = f"{len(serious)} of {len(scans)} recent session(s)"
    if len(serious) * 2 > len(scans):
        return fail(f"{cause.title}: in {share}", *evidence, remediation=cause.fix, docs=DOCS)
    if serious:
        return warn(
            f"{cause.title}: repeated in {share}",
            *evidence,
            remediation=cause.fix,
            docs=DOCS,
        )
    if found:
        return ok(f"{cause.title}: only single retried errors in {len(found)} session(s)", *evidence)
    return ok(f"{cause.title}: none in {len(scans)} recent session(s)")


# -- transcript damage ------------------------------------------------------------------------


@dataclass(frozen=True)
class DamageKind:
    id: str
    title: str
    repairable: bool = False

    @property
    def label(self) -> str:
        return self.title


DAMAGE_KINDS = (
    DamageKind("size", "transcripts over the size limit"),
    DamageKind("long-line", "lines over the line limit"),
    DamageKind("image", "embedded images over the pixel limit", repairable=True),
    DamageKind("torn-line", "torn last lines (SIGKILL mid-write)", repairable=True),
    DamageKind("tool-use", "tool_use without tool_result at the end"),
    DamageKind("unreadable", "transcripts that cannot be read"),
)


@dataclass(frozen=True)
class Limits:
    transcript_bytes: int
    line_bytes: int
    image_px: int

    @classmethod
    def of(cls, policy) -> Limits:
        return cls(int(policy.transcript_warn_mb * 1e6), policy.line_limit_bytes, policy.image_max_px)


def damaged(kind: str, scan: Scan, limits: Limits) -> str | None:
    """What is wrong with one transcript, for one kind of damage (None: nothing)."""
    if kind == "unreadable":
        return scan.problem
    if scan.problem:
        return None
    if kind == "size" and scan.transcript.size > limits.transcript_bytes:
        return f"{scan.transcript.size / MB:.1f} MB"
    if kind == "long-line" and scan.long_lines:
        longest = max(scan.long_lines, key=lambda line: line.length)
        return f"{len(scan.long_lines)} line(s) over the limit, the longest {longest.length / MB:.1f} MB at byte {longest.offset:,}"
    if kind == "image":
        big = [i for i in scan.images if i.exceeds(limits.image_px)]
        if big:
            return ", ".join(f"{i.media_type} {i.width}x{i.height} px at byte {i.offset:,}" for i in big[:3])
    if kind == "torn-line" and scan.tail and scan.tail.torn:
        return f"the last {scan.tail.torn_bytes:,} bytes are a torn line (no newline, not JSON)"
    if kind == "tool-use" and scan.tail and scan.tail.open_tool_uses:
        return "ends with tool_use " + ", ".join(scan.tail.open_tool_uses) + " and no tool_result"
    return None


def fix_command(
    check_id: str, home: Path | None = None, project: Path | None = None, all_sessions: bool = False
) -> str:
    """The command that repairs what this run found: the run's own --home/--project (and --all-sessions, which
    reaches the older transcripts), so it repairs the files this run read and not those of $HOME and the cwd."""
    argv = ["claude-preflight", "-k", check_id, "--fix"]
    argv += ["--home", str(home)] if home is not None else []
    argv += ["--project", str(project)] if project is not None else []
    return shlex.join(argv + (["--all-sessions"] if all_sessions else []))


def _remediation(kind: str, transcript: Transcript, limits: Limits, fix: str) -> str:
    path = shlex.quote(str(transcript.path))
    resume = f"claude --resume {transcript.session_id}"
    return {
        "size": f"`{resume}` reads the whole transcript: over {limits.transcript_bytes / MB:g} MB it becomes slow or "
        "hangs at 100% CPU. Start a new session (`claude`), or /compact the old one before resuming it again; keep "
        "or delete the old file.",
        "long-line": "A single line this long (a huge tool result or pasted file) makes `--resume` slow or hang. "
        "Start a new session rather than resuming this one.",
        "image": "Every later request of this session fails with `image dimensions exceed max allowed size`. "
        "Repair it (the image is replaced by a short note; a backup is written first):\n"
        f"  {fix}\nor start a new session.",
        "torn-line": "Claude Code was killed while writing its last line. Repair it (the torn line is dropped; a "
        f"backup is written first):\n  {fix}",
        "tool-use": f"The session stopped between a tool call and its result; resuming it can fail with "
        f"`tool_use ids were found without tool_result blocks`. Resume and, if it fails, start a new session "
        f"with the context you need:\n  {resume}",
        "unreadable": f"claude-preflight could not read this transcript and Claude Code cannot either:\n  ls -l {path}",
    }[kind]


def evaluate_damage(
    kind: DamageKind,
    scans: list[Scan],
    limits: Limits,
    repairs: list[Repair],
    days: float,
    fix: bool,
    fix_cmd: str = fix_command("sessions.transcript-damage"),
) -> Result:
    if not scans:
        return _nothing_read(days)
    done = {r.path: r for r in repairs}
    open_damage, evidence, remediation = [], [], []
    for scan in notable(scans, limits.transcript_bytes if kind.id == "size" else None):
        problem = damaged(kind.id, scan, limits)
        if not problem:
            continue
        transcript = scan.transcript
        where = f"session {transcript.session_id} ({scan.project}), {transcript.path}: {problem}"
        repair = done.get(transcript.path)
        if repair and repair.done:
            evidence.append(f"{where} - repaired: {repair.action}; backup: {repair.backup}")
            continue
        if repair:
            where += f" - not repaired: {repair.refused}"
        open_damage.append(transcript)
        evidence.append(where)
        remediation.append(_remediation(kind.id, transcript, limits, fix_cmd))
    evidence.append(f"{len(scans)} recent session(s) read ({_window(days)})")
    if not open_damage:
        repaired = [r for r in repairs if r.done]
        if repaired:
            return ok(f"{kind.title}: {len(repaired)} transcript(s) repaired", *evidence)
        return ok(f"{kind.title}: none in {len(scans)} recent session(s)")
    status = Status.FAIL if kind.id == "image" else Status.WARN
    summary = f"{kind.title}: {len(open_damage)} transcript(s)"
    if kind.repairable and not fix:
        summary += " (repairable with --fix)"
    text = "\n".join(dict.fromkeys(remediation))
    return Result(status, summary, tuple(evidence), text, DOCS)


# -- index and history -------------------------------------------------------------------------


def evaluate_index(
    index: SessionIndex, repair: Repair | None, shown, fix_cmd: str = fix_command("sessions.index")
) -> Result:
    where = shown(index.path)
    if repair and repair.done:
        return ok(f"{where}: rebuilt from the transcripts", f"{repair.action}; backup: {repair.backup}")
    refused = [f"not repaired: {repair.refused}"] if repair else []
    fix = (
        "`claude --resume` lists sessions from this index: sessions missing from it cannot be resumed, entries "
        "without a transcript fail. Rebuild it from the transcripts (a backup is written first):\n"
        f"  {fix_cmd}"
    )
    if index.problem:
        return fail(f"{where}: {index.problem}", *refused, remediation=fix, docs=DOCS)
    evidence = [f"{len(index.listed)} session(s) listed"]
    evidence += [f"transcript not listed: {s}" for s in index.unlisted[:10]]
    evidence += [f"listed, transcript gone: {s}" for s in index.stale[:10]]
    if index.unlisted or index.stale:
        return warn(
            f"{where}: {len(index.unlisted)} session(s) missing from the index, {len(index.stale)} stale entr(ies)",
            *evidence,
            *refused,
            remediation=fix,
            docs=DOCS,
        )
    return ok(f"{where} lists every transcript", *evidence)


def evaluate_history(history: SessionHistory, found: list[Transcript], old_days: float, old_warn_gb: float) -> Result:
    if not history.exists:
        return skip(f"{history.projects_dir} does not exist yet")
    evidence = history_evidence(history, old_days)
    sizes = bytes_by_project(found)
    evidence += [
        f"project {name}: {size / MB:,.1f} MB" for name, size in sorted(sizes.items(), key=lambda kv: -kv[1])[:5]
    ]
    evidence += [
        f"largest session {t.session_id} ({t.project_dir.name}): {t.size / MB:,.1f} MB" for t in largest(found, 3)
    ]
    summary = f"{history.sessions} session(s), {history.total_bytes / 1e9:.2f} GB"
    if history.old_bytes > old_warn_gb * 1e9:
        return warn(
            f"{summary}; {history.old_bytes / 1e9:.2f} GB in sessions older than {old_days:g} days",
            *evidence,
            f"threshold: warn over {old_warn_gb:g} GB of old sessions (history_old_warn_gb)",
            remediation="Old transcripts take disk space Claude Code needs for new ones (a full disk crashes it "
            "with ENOSPC)." + cleanup_command(history, old_days),
            docs=DOCS,
        )
    return ok(summary, *evidence)
