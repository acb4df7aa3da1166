"""Who owns Claude Code's files and directories, and whether this user may write them."""

from __future__ import annotations

import stat
from pathlib import Path

from claude_preflight.env import EXECUTABLE, READABLE, WRITABLE, Env, file_kind
from claude_preflight.probes import history
from claude_preflight.records import dataclass


@dataclass(frozen=True)
class PathTarget:
    id: str
    role: str
    path: Path
    directory: bool  # a directory is expected (else a file)
    created_by_claude: bool  # Claude Code creates it when missing
    owned_by_user: bool  # must belong to the user running Claude Code

    @property
    def label(self) -> str:
        return str(self.path)


def permission_targets(env: Env) -> list[PathTarget]:
    return [
        PathTarget("config-dir", "config directory", env.config_dir, True, True, True),
        PathTarget("user-state", "user state file", env.user_state_file, False, True, True),
        PathTarget("projects-dir", "transcript directory", env.config_dir / "projects", True, True, True),
        PathTarget("tmp-dir", "temporary directory", env.tmp_dir, True, False, False),
        PathTarget("project-dir", "project directory", env.project, True, False, False),
    ]


@dataclass(frozen=True)
class PathFacts:
    path: Path
    exists: bool
    kind: str | None = None
    owner_uid: int | None = None
    owner: str | None = None
    mode: int | None = None
    readable: bool = False
    writable: bool = False
    searchable: bool = False
    nearest_parent: Path | None = None  # for a missing path: the closest ancestor that exists
    parent_writable: bool = False
    error: str | None = None
    list_errno: int | None = None  # a directory that would not list when opened (EPERM: macOS TCC)

    @property
    def mode_text(self) -> str:
        return f"{stat.S_IMODE(self.mode):04o}" if self.mode is not None else "?"


def path_facts(env: Env, path: Path) -> PathFacts:
    try:
        info = env.stat(path)
    except FileNotFoundError:
        parent = Path(path).parent
        while not _exists(env, parent) and parent != parent.parent:
            parent = parent.parent
        writable = env.access(parent, WRITABLE | EXECUTABLE)
        return PathFacts(path, False, nearest_parent=parent, parent_writable=writable)
    except OSError as exc:
        return PathFacts(path, True, kind="unusable path", error=f"{exc.strerror or exc} (errno {exc.errno})")
    return PathFacts(
        path,
        True,
        kind=file_kind(info.st_mode),
        owner_uid=info.st_uid,
        owner=env.user_name(info.st_uid),
        mode=info.st_mode,
        readable=env.access(path, READABLE),
        writable=env.access(path, WRITABLE),
        searchable=env.access(path, EXECUTABLE) if stat.S_ISDIR(info.st_mode) else True,
        # Mode bits are not the whole story on a Mac: privacy protection refuses ~/Documents, ~/Desktop,
        # ~/Downloads to a terminal without the grant. Only opening the directory tells.
        list_errno=env.list_errno(path) if stat.S_ISDIR(info.st_mode) else None,
    )


def _exists(env: Env, path: Path) -> bool:
    try:
        env.stat(path)
        return True
    except OSError:
        return False


@dataclass(frozen=True)
class BlockedEntry:
    path: Path
    owner: str


def blocked_tmp_entries(env: Env, limit: int = 50) -> tuple[BlockedEntry, ...]:
    """Claude Code's own entries in the temp directory (claude-*, cc-socks) this user cannot write."""
    blocked = []
    for path, info in env.entries(env.tmp_dir):
        if not (path.name.startswith("claude") or path.name == "cc-socks"):
            continue
        if info.st_uid != env.uid and not env.access(path, WRITABLE):
            blocked.append(BlockedEntry(path, env.user_name(info.st_uid)))
            if len(blocked) >= limit:
                break
    return tuple(blocked)


@dataclass(frozen=True)
class OwnershipScan:
    root: Path
    exists: bool
    scanned: int = 0
    foreign: tuple[BlockedEntry, ...] = ()
    foreign_count: int = 0
    truncated: bool = False


def foreign_owned(env: Env, root: Path, limit: int, keep: int = 10) -> OwnershipScan:
    """Entries below `root` owned by someone other than this user (scan bounded by `limit`).

    The transcript tree (~/.claude/projects), the bulk of it, comes from the run's one walk of the history.
    """
    if not _exists(env, root):
        return OwnershipScan(root, False)
    projects = env.config_dir / "projects"
    uid, scanned, count, kept, truncated = env.uid, 0, 0, [], False
    stack, history_seen = [Path(root)], False
    while stack and not truncated:
        for path, info in env.entries(stack.pop()):
            scanned += 1
            if info.st_uid != uid:
                count += 1
                if len(kept) < keep:
                    kept.append(BlockedEntry(path, env.user_name(info.st_uid)))
            if scanned >= limit:
                truncated = True
                break
            if not stat.S_ISDIR(info.st_mode):
                continue
            if path == projects and not history_seen:
                history_seen = True
                walked = history.history(env, limit)
                scanned, count = scanned + walked.scanned, count + walked.foreign_count
                kept += [BlockedEntry(f.path, env.user_name(f.uid)) for f in walked.foreign[: keep - len(kept)]]
                truncated = walked.truncated or scanned >= limit
                if truncated:
                    break
            else:
                stack.append(path)
    return OwnershipScan(root, True, scanned, tuple(kept), count, truncated)
