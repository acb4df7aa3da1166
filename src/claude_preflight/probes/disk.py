"""Free space and inodes on the filesystems Claude Code writes to, and the size of its history."""

from __future__ import annotations

from pathlib import Path

from claude_preflight.env import Env
from claude_preflight.probes import history
from claude_preflight.records import dataclass


@dataclass(frozen=True)
class FsTarget:
    """One filesystem, with the roles (home, config dir, ...) of the paths that live on it."""

    mount: Path
    device: int
    roles: tuple[str, ...]
    probe_path: Path  # an existing path on it, for the free-space figures

    @property
    def id(self) -> str:
        return str(self.mount)

    @property
    def label(self) -> str:
        return str(self.mount)


def _existing(env: Env, path: Path) -> Path:
    path = Path(path)
    while True:
        try:
            env.stat(path)
            return path
        except OSError:
            if path == path.parent:
                return path
            path = path.parent


def _mount_point(env: Env, path: Path) -> Path:
    device = env.stat(path).st_dev
    while path != path.parent:
        try:
            if env.stat(path.parent).st_dev != device:
                break
        except OSError:
            break
        path = path.parent
    return path


def filesystem_targets(env: Env) -> list[FsTarget]:
    """Each distinct filesystem holding the home, config dir, temp dir and project."""
    by_device: dict[int, FsTarget] = {}
    for role, path in (
        ("home", env.home),
        ("config dir", env.config_dir),
        ("temp dir", env.tmp_dir),
        ("project", env.project),
    ):
        existing = _existing(env, path)
        device = env.stat(existing).st_dev
        known = by_device.get(device)
        if known:
            by_device[device] = FsTarget(known.mount, device, (*known.roles, role), known.probe_path)
        else:
            by_device[device] = FsTarget(_mount_point(env, existing), device, (role,), existing)
    return list(by_device.values())


@dataclass(frozen=True)
class Space:
    free_bytes: int
    total_bytes: int
    free_inodes: int
    total_inodes: int  # 0: the filesystem does not count inodes (btrfs, some overlays)


def space(env: Env, target: FsTarget) -> Space:
    return Space(*env.disk_space(target.probe_path))


@dataclass(frozen=True)
class SessionHistory:
    projects_dir: Path
    exists: bool
    total_bytes: int = 0
    sessions: int = 0
    old_sessions: int = 0
    old_bytes: int = 0
    truncated: bool = False


def session_history(env: Env, older_than_days: float, limit: int) -> SessionHistory:
    """Size of ~/.claude/projects and its transcripts older than `older_than_days`, from the run's one walk of
    the history (disk.space and sessions.history both report it)."""
    walked = history.history(env, limit)
    if not walked.exists:
        return SessionHistory(walked.root, False)
    cutoff = env.now() - older_than_days * 86400
    old = old_bytes = 0
    for size, mtime in walked.session_figures():
        if mtime < cutoff:
            old += 1
            old_bytes += size
    return SessionHistory(walked.root, True, walked.total_bytes, walked.sessions, old, old_bytes, walked.truncated)
