"""One walk of ~/.claude/projects per run, shared by every family that looks at the history.

The transcript listing (sessions, windows), the size of the history (disk, sessions) and the ownership scan
(permissions) all read the same tree; at 100k sessions each walk costs seconds, so the tree is walked once and
kept compact: the facts a check needs, never a Path or a stat result per entry.
"""

from __future__ import annotations

import heapq
import re
import stat
from array import array
from collections.abc import Iterator, Sequence
from pathlib import Path

from claude_preflight.env import Env
from claude_preflight.probes import once_per_run
from claude_preflight.records import dataclass


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


_SESSION_NAME = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.jsonl")


class TranscriptList(Sequence):
    """Every top-level transcript, column by column: the names in one buffer, the figures in arrays (about 60
    bytes a session, and no Python object each); Transcripts are made on demand."""

    def __init__(self) -> None:
        self.dirs: list[Path] = []
        self._dir = array("I")
        self._names = bytearray()  # a session id (a UUID, as Claude Code names them) in 16 bytes, else the name
        self._ends = array("I")
        self._packed = bytearray()  # 1: that name is a packed session id
        self.sizes = array("q")
        self.mtimes = array("d")
        self._modes = array("I")

    def add(self, dir_index: int, name: str, size: int, mtime: float, mode: int) -> None:
        self._dir.append(dir_index)
        if _SESSION_NAME.fullmatch(name):
            self._names += bytes.fromhex(name[:36].replace("-", ""))
            self._packed.append(1)
        else:
            self._names += name.encode("utf-8", "surrogateescape")
            self._packed.append(0)
        self._ends.append(len(self._names))
        self.sizes.append(size)
        self.mtimes.append(mtime)
        self._modes.append(mode)

    def __len__(self) -> int:
        return len(self._ends)

    def name(self, index: int) -> str:
        start = self._ends[index - 1] if index else 0
        raw = self._names[start : self._ends[index]]
        if not self._packed[index]:
            return raw.decode("utf-8", "surrogateescape")
        h = raw.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}.jsonl"

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        return Transcript.of(
            self.dirs[self._dir[index]], self.name(index), self.sizes[index], self.mtimes[index], self._modes[index]
        )

    def __iter__(self) -> Iterator[Transcript]:
        return (self[i] for i in range(len(self)))

    def subset(self, indices: array) -> TranscriptList:
        """A TranscriptList of these entries only, in this order."""
        made = TranscriptList()
        made.dirs = self.dirs
        for i in indices:
            made.add(self._dir[i], self.name(i), self.sizes[i], self.mtimes[i], self._modes[i])
        return made

    def since(self, cutoff: float) -> TranscriptView:
        """Those changed at or after `cutoff`, in listing order (no Transcript is made)."""
        return TranscriptView(self, array("I", (i for i, mtime in enumerate(self.mtimes) if mtime >= cutoff)))

    def largest(self, count: int) -> list[Transcript]:
        # nlargest: the order sorted(..., reverse=True)[:count] gives, without a list of every index
        return [self[i] for i in heapq.nlargest(count, range(len(self)), key=self.sizes.__getitem__)]

    def bytes_by_project(self) -> dict[str, int]:
        totals = [0] * len(self.dirs)
        for dir_index, size in zip(self._dir, self.sizes, strict=True):
            totals[dir_index] += size
        present = set(self._dir)
        return {self.dirs[i].name: total for i, total in enumerate(totals) if i in present}

    def session_ids(self) -> dict[Path, set[str]]:
        by_dir: dict[Path, set[str]] = {}
        for index, dir_index in enumerate(self._dir):
            by_dir.setdefault(self.dirs[dir_index], set()).add(self.name(index)[: -len(".jsonl")])
        return by_dir


class TranscriptView(Sequence):
    """Some transcripts of a TranscriptList, in a given order: --all-sessions hands 100k to the scan."""

    def __init__(self, base: TranscriptList, indices: array) -> None:
        self.base, self.indices = base, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return TranscriptView(self.base, self.indices[index])
        return self.base[self.indices[index]]

    def __iter__(self) -> Iterator[Transcript]:
        return (self.base[i] for i in self.indices)

    def __reduce__(self):
        # To a worker process: only these transcripts travel, not the whole history they were chosen from.
        return (TranscriptView, (self.base.subset(self.indices), array("I", range(len(self.indices)))))

    def newest_first(self) -> TranscriptView:
        mtimes = self.base.mtimes
        return TranscriptView(self.base, array("I", sorted(self.indices, key=lambda i: -mtimes[i])))

    def size(self, index: int) -> int:
        """The size of the transcript at `index`, without making it."""
        return self.base.sizes[self.indices[index]]

    @property
    def total_size(self) -> int:
        sizes = self.base.sizes
        return sum(sizes[i] for i in self.indices)


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
    other_sizes: array = None  # type: ignore[assignment]  # the .jsonl entries the listing leaves out (sub-agents)
    other_mtimes: array = None  # type: ignore[assignment]

    def session_figures(self) -> Iterator[tuple[int, float]]:
        """Size and mtime of every .jsonl below root, at any depth."""
        yield from zip(self.transcripts.sizes, self.transcripts.mtimes, strict=True)
        yield from zip(self.other_sizes, self.other_mtimes, strict=True)

    @property
    def sessions(self) -> int:
        return len(self.transcripts) + len(self.other_sizes)

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
        for name, info in self.env.named_entries(directory):
            mode = info.st_mode
            if info.st_uid != self.uid:
                self.foreign_count += 1
                if len(self.foreign) < KEEP_FOREIGN:
                    self.foreign.append(Foreign(directory / name, info.st_uid))
            is_dir = stat.S_ISDIR(mode)
            if is_dir:
                subdirs.append(directory / name)
            if name.endswith(".jsonl"):
                self.total += info.st_size
                if depth == 2 and stat.S_ISREG(mode):
                    self.listing.add(dir_index, name, info.st_size, info.st_mtime, mode)
                else:
                    self.sizes.append(info.st_size)
                    self.mtimes.append(info.st_mtime)
            elif not is_dir:
                self.total += info.st_size
            self.seen += 1
            if self.seen >= self.limit:
                self.full = True
                break
        return subdirs
