"""Rules for free space and inodes."""

from __future__ import annotations

from claude_preflight.outcome import Result, fail, ok, skip, warn
from claude_preflight.probes.disk import FsTarget, SessionHistory, Space

DOCS = "https://code.claude.com/docs/en/troubleshooting"
GIB = 1024**3


def _gib(n: float) -> str:
    return f"{n / GIB:.1f} GiB"


def history_evidence(history: SessionHistory | None, days: float) -> list[str]:
    if history is None or not history.exists:
        return []
    lines = [
        f"{history.projects_dir}: {_gib(history.total_bytes)} in {history.sessions} session transcript(s)"
        + (" (scan limit reached)" if history.truncated else ""),
        f"{history.old_sessions} session(s) older than {days:g} days, {_gib(history.old_bytes)}",
    ]
    return lines


def cleanup_command(history: SessionHistory | None, days: float, platform: str = "linux") -> str:
    if history is None or not history.exists or not history.old_sessions:
        return ""
    if platform == "win32":
        return (
            f"\nOld sessions ({history.old_sessions}, {_gib(history.old_bytes)}) can go (they cannot be resumed after), "
            f"in PowerShell:\n  Get-ChildItem -Recurse -Filter *.jsonl '{history.projects_dir}' | "
            f"Where-Object LastWriteTime -lt (Get-Date).AddDays(-{int(days)}) | Remove-Item"
        )
    return (
        f"\nOld sessions ({history.old_sessions}, {_gib(history.old_bytes)}) can go (they cannot be resumed after):\n"
        f"  find '{history.projects_dir}' -name '*.jsonl' -mtime +{int(days)} -delete"
    )


def evaluate_space(
    target: FsTarget,
    space: Space,
    history: SessionHistory | None,
    *,
    fail_gib: float,
    warn_gib: float,
    warn_inodes_percent: float,
    old_days: float,
    platform: str = "linux",
) -> Result:
    roles = ", ".join(target.roles)
    figures = f"{target.mount} ({roles}): {_gib(space.free_bytes)} free of {_gib(space.total_bytes)}"
    inode_line = (
        f"{target.mount}: {space.free_inodes} of {space.total_inodes} inodes free "
        f"({100 * space.free_inodes / space.total_inodes:.1f}%)"
        if space.total_inodes
        else f"{target.mount}: the filesystem does not report inodes"
    )
    evidence = [figures, inode_line, *history_evidence(history, old_days)]
    why = (
        "A full disk crashes Claude Code with ENOSPC; if it happens while ~/.claude.json is being rewritten the "
        "file can be left empty and Claude Code refuses to start."
    )
    depth = "-d 2" if platform == "darwin" else "--max-depth=2"  # BSD du has no --max-depth
    free_up = f"See what is large with:\n  du -xh {depth} '{target.mount}' 2>/dev/null | sort -h | tail -20"
    if platform == "win32":
        free_up = (
            f"See what is large with (PowerShell):\n  Get-ChildItem -Force -Directory '{target.mount}' | ForEach-Object "
            "{ '{0,8:N1} GB  {1}' -f ((Get-ChildItem -LiteralPath $_.FullName -Recurse -File -Force -ErrorAction "
            "SilentlyContinue | Measure-Object Length -Sum).Sum / 1GB), $_.FullName } | Sort-Object"
        )
    free_up += cleanup_command(history, old_days, platform)
    if space.total_bytes == 0:
        return skip(f"{target.mount} reports no size (a virtual filesystem)", *evidence)
    if space.free_bytes < fail_gib * GIB:
        return fail(
            f"{_gib(space.free_bytes)} free on {target.mount} ({roles}): under {fail_gib:g} GiB",
            *evidence,
            f"threshold: fail under {fail_gib:g} GiB (disk_fail_gib)",
            remediation=f"{why}\n{free_up}",
            docs=DOCS,
        )
    if space.free_bytes < warn_gib * GIB:
        return warn(
            f"{_gib(space.free_bytes)} free on {target.mount} ({roles}): under {warn_gib:g} GiB",
            *evidence,
            f"threshold: warn under {warn_gib:g} GiB (disk_warn_gib)",
            remediation=f"{why} A long session writes transcripts, shell snapshots and backups.\n{free_up}",
            docs=DOCS,
        )
    if space.total_inodes and 100 * space.free_inodes / space.total_inodes < warn_inodes_percent:
        return warn(
            f"few free inodes on {target.mount}: {100 * space.free_inodes / space.total_inodes:.1f}%",
            *evidence,
            f"threshold: warn under {warn_inodes_percent:g}% free inodes (disk_warn_inodes_percent)",
            remediation="With no free inodes no new file can be created, whatever the free space: Claude Code fails "
            "with ENOSPC. Find the directories with the most files:\n"
            + (
                f"  find '{target.mount}' -xdev 2>/dev/null | cut -d/ -f1-4 | sort | uniq -c | sort -n | tail -20"
                if platform == "darwin"  # BSD du counts no inodes
                else f"  du -x --inodes --max-depth=3 '{target.mount}' 2>/dev/null | sort -n | tail -20"
            )
            + cleanup_command(history, old_days),
            docs=DOCS,
        )
    return ok(f"{_gib(space.free_bytes)} free on {target.mount} ({roles})", *evidence)
