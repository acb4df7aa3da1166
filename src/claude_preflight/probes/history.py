"""One walk of ~/.claude/projects per run, shared by every family that looks at the history.

The transcript listing (sessions, windows), the size of the history (disk, sessions) and the ownership scan
(permissions) all read the same tree; at 100k sessions each walk costs seconds, so the tree is walked once and
kept compact: the facts a check needs, never a Path or a stat result per entry.
"""

from __future__ import annotations

import stat
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from claude_preflight.env import Env
from claude_preflight.probes import once_per_run


class Transcript:
    """A top-level session transcript: `project_dir / name`, its size, mtime and mode.

    A plain class with slots, and the path made on demand: a run may hold 100k of them.
    """

    __slots__ = ("project_dir", "name", "size", "mtime", "mode", "_path")

    def __init__(self, path: Path, session_id: str, project_dir: Path, size: int, mtime: float, mode: int) -> None:
        self.project_dir, self.name, self.size, self.mtime, self.mode = project_dir, Path(path).name, size, mtime, mode
        self._path = None if Path(path).parent == project_dir else Path(path)

    @classmethod
    def of(cls, project_dir: Path, name: str, size: int, mtime: float, mode: int) -> Transcript:
        made = cls.__new__(cls)
        made.project_dir, made.name, made.size, made.mtime, made.mode, made._path = (
            project_dir, name, size, mtime, mode, None
        )  # fmt: skip
        return made

    @property
    def path(self) -> Path:
        return self._path or self.project_dir / self.name

    @property
    def session_id(self) -> str:
        return self.name[: -len(".jsonl")] if self.name.endswith(".jsonl") else Path(self.name).stem

    def _key(self) -> tuple:
        return (self.path, self.session_id, self.project_dir, self.size, self.mtime, self.mode)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Transcript) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Transcript(path={self.path!r}, size={self.size}, mtime={self.mtime})"

    def __getstate__(self) -> tuple:
        return (self.project_dir, self.name, self.size, self.mtime, self.mode, self._path)

    def __setstate__(self, state: tuple) -> None:
        self.project_dir, self.name, self.size, self.mtime, self.mode, self._path = state


class TranscriptList(Sequence):
    """Every top-level transcript, column by column (a name and three numbers each); Transcripts made on demand."""

    def __init__(self) -> None:
        self.dirs: list[Path] = []
        self._dir = array("I")
        self._names: list[str] = []
        self.sizes = array("q")
        self.mtimes = array("d")
        self._modes = array("I")

    def add(self, dir_index: int, name: str, size: int, mtime: float, mode: int) -> None:
        self._dir.append(dir_index)
        self._names.append(name)
        self.sizes.append(size)
        self.mtimes.append(mtime)
        self._modes.append(mode)

    def __len__(self) -> int:
        return len(self._names)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        return Transcript.of(
            self.dirs[self._dir[index]], self._names[index], self.sizes[index], self.mtimes[index], self._modes[index]
        )

    def __iter__(self) -> Iterator[Transcript]:
        return (self[i] for i in range(len(self)))

    def since(self, cutoff: float) -> list[Transcript]:
        """Those changed at or after `cutoff`, in listing order (the old ones are never made)."""
        return [self[i] for i, mtime in enumerate(self.mtimes) if mtime >= cutoff]

    def largest(self, count: int) -> list[Transcript]:
        order = sorted(range(len(self)), key=self.sizes.__getitem__, reverse=True)[:count]
        return [self[i] for i in order]

    def bytes_by_project(self) -> dict[str, int]:
        totals = [0] * len(self.dirs)
        for dir_index, size in zip(self._dir, self.sizes, strict=True):
            totals[dir_index] += size
        present = set(self._dir)
        return {self.dirs[i].name: total for i, total in enumerate(totals) if i in present}

    def session_ids(self) -> dict[Path, set[str]]:
        by_dir: dict[Path, set[str]] = {}
        for dir_index, name in zip(self._dir, self._names, strict=True):
            by_dir.setdefault(self.dirs[dir_index], set()).add(name[: -len(".jsonl")])
        return by_dir


@dataclass(frozen=True)
class Foreign:
    path: Path
    uid: int


@dataclass(frozen=True)
class History:
    root: Path
    exists: bool
    transcripts: TranscriptList
    scanned: int = 0  # entries visited below root
    total_bytes: int = 0  # of every file below root
    session_sizes: array = None  # type: ignore[assignment]  # every .jsonl below root, at any depth
    session_mtimes: array = None  # type: ignore[assignment]
    foreign: tuple[Foreign, ...] = ()  # the first entries owned by another user
    foreign_count: int = 0
    truncated: bool = False


KEEP_FOREIGN = 10


def history(env: Env, limit: int) -> History:
    """The one walk of ~/.claude/projects (at most `limit` entries), once per run."""
    return once_per_run("history", env, limit, lambda: _walk(env, limit))


def _walk(env: Env, limit: int) -> History:
    root = env.config_dir / "projects"
    listing = TranscriptList()
    try:
        env.stat(root)
    except OSError:
        return History(root, False, listing)
    walk = _Walk(env, limit, listing)
    # The project directories in listing order, each one's own entries before anything deeper: the
    # transcript listing keeps the order the directories list in.
    projects = walk.visit(root, 1)
    deeper: list[Path] = []
    for project_dir in projects:
        if walk.full:
            break
        listing.dirs.append(project_dir)
        deeper += walk.visit(project_dir, 2, len(listing.dirs) - 1)
    while deeper and not walk.full:
        deeper += walk.visit(deeper.pop(), 3)
    return History(
        root,
        True,
        listing,
        walk.seen,
        walk.total,
        walk.sizes,
        walk.mtimes,
        tuple(walk.foreign),
        walk.foreign_count,
        walk.full,
    )


class _Walk:
    def __init__(self, env: Env, limit: int, listing: TranscriptList) -> None:
        self.env, self.limit, self.listing, self.uid = env, limit, listing, env.uid
        self.seen = self.total = self.foreign_count = 0
        self.sizes, self.mtimes = array("q"), array("d")
        self.foreign: list[Foreign] = []
        self.full = False

    def visit(self, directory: Path, depth: int, dir_index: int = -1) -> list[Path]:
        """Count a directory's entries; the subdirectories, to visit later."""
        subdirs = []
        for path, info in self.env.entries(directory):
            mode = info.st_mode
            if info.st_uid != self.uid:
                self.foreign_count += 1
                if len(self.foreign) < KEEP_FOREIGN:
                    self.foreign.append(Foreign(path, info.st_uid))
            name = path.name
            if stat.S_ISDIR(mode):
                subdirs.append(path)
            if name.endswith(".jsonl"):
                self.total += info.st_size
                self.sizes.append(info.st_size)
                self.mtimes.append(info.st_mtime)
                if depth == 2 and stat.S_ISREG(mode):
                    self.listing.add(dir_index, name, info.st_size, info.st_mtime, mode)
            elif not stat.S_ISDIR(mode):
                self.total += info.st_size
            self.seen += 1
            if self.seen >= self.limit:
                self.full = True
                break
        return subdirs
