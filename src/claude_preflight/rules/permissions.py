"""Rules for ownership and write access."""

from __future__ import annotations

import errno

from claude_preflight.outcome import Result, fail, ok, skip
from claude_preflight.probes.permissions import BlockedEntry, OwnershipScan, PathFacts, PathTarget

DOCS = "https://code.claude.com/docs/en/troubleshooting"

WHY = {
    "config-dir": "Claude Code writes settings, transcripts, the session registry and backups here; when it cannot, "
    "`claude -p` still answers and exits 0 but writes no transcript, so the session is lost without a word.",
    "user-state": "Claude Code rewrites ~/.claude.json at every start and during sessions; EACCES there crashes it.",
    "projects-dir": "Every session's transcript goes here; a non-writable directory makes `claude -p` exit 0 "
    "and silently write no transcript, so `--resume` has nothing to resume.",
    "tmp-dir": "Claude Code's Bash tool and its sockets live in the temporary directory; without write access "
    "every Bash tool call fails.",
    "project-dir": "Claude Code edits files and writes .claude/ in the project; without write access every edit fails.",
}


TCC = """\
Claude Code (and every tool it runs) inherits the terminal's privacy permissions: under ~/Documents, ~/Desktop and
~/Downloads, macOS refuses a terminal that has not been granted access, whatever `ls -l` shows ("Operation not
permitted"). Grant it in System Settings > Privacy & Security > Files and Folders (or Full Disk Access) for your
terminal app (Terminal, iTerm, the IDE), then restart it. Or keep projects outside those folders:
  mv '{where}' ~/code/"""


def _describe(facts: PathFacts) -> str:
    return (
        f"{facts.path}: {facts.kind}, owner {facts.owner}, mode {facts.mode_text}, "
        f"writable by you: {'yes' if facts.writable else 'no'}"
    )


def evaluate_path(target: PathTarget, facts: PathFacts, user: str, uid: int, platform: str = "linux") -> Result:
    where = str(target.path)
    if not facts.exists:
        return _missing(target, facts)
    if facts.error:
        return fail(
            f"{target.role} cannot be used: {facts.error}",
            f"{where}: {facts.error}",
            remediation=f"{WHY[target.id]} Inspect it with:\n  ls -ld '{where}'",
            docs=DOCS,
        )
    wanted = "directory" if target.directory else "regular file"
    if facts.kind != wanted:
        return fail(
            f"{target.role} is a {facts.kind}, not a {wanted}",
            _describe(facts),
            remediation=f"{WHY[target.id]} Move it aside:\n  mv '{where}' '{where}.moved-aside'",
            docs=DOCS,
        )
    if target.owned_by_user and facts.owner_uid != uid:
        return fail(
            f"{target.role} belongs to {facts.owner}, not to you ({user})",
            _describe(facts),
            remediation=f"{WHY[target.id]} This usually follows `sudo claude`. Take it back:\n"
            f"  sudo chown -R \"$(id -un)\": '{where}'",
            docs=DOCS,
        )
    if platform == "darwin" and facts.list_errno == errno.EPERM and facts.readable and facts.searchable:
        return fail(
            f"macOS privacy protection (TCC) keeps your terminal out of the {target.role}",
            _describe(facts),
            f"{where}: opening it fails with EPERM (Operation not permitted) although the mode bits allow it",
            remediation=TCC.format(where=where),
            docs=DOCS,
        )
    if not facts.writable or not facts.searchable:
        return fail(
            f"{target.role} is not writable by you ({user})",
            _describe(facts),
            remediation=f"{WHY[target.id]} Give yourself write access:\n  chmod u+rwX '{where}'"
            + (
                f"\nor, if another user owns it:\n  sudo chown \"$(id -un)\" '{where}'"
                if facts.owner_uid != uid
                else ""
            ),
            docs=DOCS,
        )
    return ok(f"{target.role} is writable by you", _describe(facts))


def _missing(target: PathTarget, facts: PathFacts) -> Result:
    where = str(target.path)
    if target.created_by_claude:
        if facts.parent_writable:
            return ok(f"{target.role} does not exist yet; Claude Code can create it", f"{where}: missing")
        return fail(
            f"{target.role} does not exist and cannot be created",
            f"{where}: missing; {facts.nearest_parent} is not writable by you",
            remediation=f"{WHY[target.id]} Create it yourself:\n  sudo install -d -o \"$(id -un)\" '{where}'"
            if target.directory
            else f"{WHY[target.id]} Make {facts.nearest_parent} writable, or create the file:\n"
            f"  sudo install -o \"$(id -un)\" -m 600 /dev/null '{where}'",
            docs=DOCS,
        )
    if target.id == "tmp-dir":
        return fail(
            "TMPDIR names a directory that does not exist",
            f"{where}: missing",
            remediation=f"{WHY[target.id]} Create it or unset TMPDIR:\n  mkdir -p '{where}'   # or: unset TMPDIR",
            docs=DOCS,
        )
    return skip(f"{target.role} does not exist: {where}")


def evaluate_tmp_entries(blocked: tuple[BlockedEntry, ...], base: Result) -> Result:
    """Add Claude Code's own temp entries that belong to another user to the temp dir's result."""
    if not blocked or base.status.value == "fail":
        return base
    return fail(
        f"{len(blocked)} Claude Code temp entr{'y' if len(blocked) == 1 else 'ies'} belong to another user",
        *(f"{b.path}: owner {b.owner}, not writable by you" for b in blocked),
        remediation="Left by a `sudo claude` run: Claude Code cannot reuse or replace them, so its Bash tool or "
        "session sockets fail. Remove them:\n" + "\n".join(f"  sudo rm -rf '{b.path}'" for b in blocked),
        docs=DOCS,
    )


def evaluate_ownership(scan: OwnershipScan, user: str) -> Result:
    root = str(scan.root)
    if not scan.exists:
        return skip(f"{root} does not exist yet")
    scope = f"{scan.scanned} entries scanned" + (" (scan limit reached)" if scan.truncated else "")
    if not scan.foreign_count:
        return ok(f"everything under {root} belongs to you", scope)
    return fail(
        f"{scan.foreign_count} entr{'y' if scan.foreign_count == 1 else 'ies'} under {root} belong to another user",
        *(f"{entry.path}: owner {entry.owner}" for entry in scan.foreign),
        scope,
        remediation="Files owned by another user (root, after `sudo claude`) cannot be rewritten: Claude Code fails "
        f"with EACCES or silently loses sessions. Take them back as {user}:\n"
        f"  sudo chown -R \"$(id -un)\": '{root}'",
        docs=DOCS,
    )
