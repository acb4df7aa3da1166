"""What fills the context before the first prompt: CLAUDE.md memory files; and the size of ~/.claude.json."""

from __future__ import annotations

import errno
import json
import re
from pathlib import Path

from claude_preflight.env import Env, NotRegularFile, TooLarge
from claude_preflight.probes.files import JsonFile, read_json, read_raw
from claude_preflight.records import dataclass

MAX_IMPORT_DEPTH = 5
# Claude Code's import syntax: `@path` at the start of a line or after whitespace, outside code.
_IMPORT = re.compile(r"(?:^|\s)@((?:[^\s\\]|\\ )+)")
_FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")


@dataclass(frozen=True)
class MemoryFile:
    path: Path
    role: str  # managed, user, user rule, project, parent, local, project rule, import
    chars: int
    imported_from: Path | None = None
    unread: JsonFile | None = None  # could not be read at all: why (state missing/not-a-file/unreadable/too-large)
    bad_byte: int | None = None  # read, but not UTF-8: the offset of the first bad byte


@dataclass(frozen=True)
class BadImport:
    source: Path
    written: str  # the @path as written
    target: Path
    reason: str  # "missing", "cycle", "too deep", "not a file"


@dataclass(frozen=True)
class MemoryFiles:
    files: tuple[MemoryFile, ...]
    bad_imports: tuple[BadImport, ...]

    @property
    def total_chars(self) -> int:
        return sum(f.chars for f in self.files)


def _candidates(env: Env) -> list[tuple[Path, str]]:
    """Every file Claude Code loads for the project, in its order: managed, user, root ... project."""
    found = [(env.managed_dir / "CLAUDE.md", "managed"), (env.config_dir / "CLAUDE.md", "user")]
    found += [(p, "user rule") for p in _rules(env, env.config_dir / "rules")]
    project = Path(env.project)
    for directory in reversed([project, *project.parents]):
        role = "project" if directory == project else "parent"
        found += [(directory / "CLAUDE.md", role), (directory / ".claude" / "CLAUDE.md", role)]
        found.append((directory / "CLAUDE.local.md", "local"))
    found += [(p, "project rule") for p in _rules(env, project / ".claude" / "rules")]
    return found


def _rules(env: Env, directory: Path) -> list[Path]:
    """Rule files that always load (a rule with `paths:` in its front matter loads only for matching files)."""
    found = sorted(path for path, _ in env.walk(directory, 1000) if path.suffix == ".md")
    return [path for path in found if not _is_conditional(env, path)]


def _is_conditional(env: Env, path: Path) -> bool:
    try:
        head = env.read_text(path, 1 << 20)[:4096]
    except (OSError, TooLarge, NotRegularFile):
        return False
    return head.startswith("---") and re.search(r"^paths\s*:", head.split("\n---", 1)[0], re.MULTILINE) is not None


def memory_files(env: Env, max_bytes: int) -> MemoryFiles:
    files: list[MemoryFile] = []
    bad: list[BadImport] = []
    loaded: set[Path] = set()

    def load(path: Path, role: str, parent: Path | None, chain: tuple[Path, ...]) -> None:
        real = env.real_path(path)
        if real in loaded:
            return
        loaded.add(real)
        text, unread, bad_byte = _read(env, path, max_bytes)
        if text is None and unread is None:
            return  # not there: fine for every candidate
        chars = len(text) if text is not None else _size(env, path)
        files.append(MemoryFile(path, role, chars, parent, unread, bad_byte))
        for written, target in imports(env, path, text or ""):
            resolved = env.real_path(target)
            if resolved in chain or resolved == real:
                bad.append(BadImport(path, written, target, "cycle"))
            elif len(chain) >= MAX_IMPORT_DEPTH:
                bad.append(BadImport(path, written, target, "too deep"))
            elif not env.exists(target):
                bad.append(BadImport(path, written, target, "missing"))
            else:
                load(target, "import", path, (*chain, real))

    for path, role in _candidates(env):
        load(path, role, None, ())
    return MemoryFiles(tuple(files), tuple(bad))


def imports(env: Env, source: Path, text: str) -> list[tuple[str, Path]]:
    """The @imports of a memory file, with the path each one resolves to (relative to the importing file)."""
    text = _INLINE_CODE.sub("", _FENCE.sub("", text))
    found = []
    for match in _IMPORT.finditer(text):
        written = match.group(1).replace("\\ ", " ")
        target = env.expand(written) if written.startswith("~") else Path(written)
        target = target if target.is_absolute() else source.parent / target
        found.append((match.group(1), env.normpath(str(target))))
    return found


def _read(env: Env, path: Path, max_bytes: int) -> tuple[str | None, JsonFile | None, int | None]:
    """(text, why it was not read, first byte that is not UTF-8); (None, None, None) when the file is not there,
    which is fine for every candidate."""
    raw, found = read_raw(env, path, max_bytes)
    if found.state == "missing" or found.errno == errno.ENOTDIR:  # ENOTDIR: a parent is a file
        return None, None, None
    if raw is None:
        return None, found, None
    try:
        return raw.decode("utf-8"), None, None
    except UnicodeDecodeError as exc:
        return raw.decode("utf-8", "replace"), None, exc.start


def _size(env: Env, path: Path) -> int:
    try:
        return env.stat(path).st_size
    except OSError:
        return 0


@dataclass(frozen=True)
class ProjectEntry:
    directory: str
    bytes: int  # of its JSON in ~/.claude.json
    history: int | None  # entries in its `history` list (older releases kept one per project)
    exists: bool


@dataclass(frozen=True)
class StateFile:
    path: Path
    size: int | None  # None: not there
    projects: tuple[ProjectEntry, ...] = ()  # only for a file over `detail_over` bytes (see state_file)
    biggest_keys: tuple[tuple[str, int], ...] = ()
    parsed: bool = False
    project_count: int = 0


def state_file(env: Env, max_bytes: int, detail_over: int = 0) -> StateFile:
    """~/.claude.json's size and projects; what each project and top-level key weighs only when the file is over
    `detail_over` bytes (weighing means writing each one out as JSON: 0.15 s for a 5 MB file)."""
    path = env.user_state_file
    try:
        size = env.stat(path).st_size
    except OSError:
        return StateFile(path, None)
    document = read_json(env, path, max_bytes).data
    if not isinstance(document, dict):
        return StateFile(path, size)
    projects = document.get("projects") if isinstance(document.get("projects"), dict) else {}
    if size <= detail_over:
        return StateFile(path, size, parsed=True, project_count=len(projects))
    entries = tuple(
        ProjectEntry(
            directory,
            _compact_size(info),
            len(info["history"]) if isinstance(info, dict) and isinstance(info.get("history"), list) else None,
            env.exists(Path(directory)),
        )
        for directory, info in projects.items()
    )
    weights = {k: _compact_size(v) for k, v in document.items() if k != "projects" or v is not projects}
    if projects is document.get("projects"):  # the sum of what its projects weigh, not a second write-out
        weights["projects"] = _object_size(projects, [entry.bytes for entry in entries])
    keys = sorted(weights.items(), key=lambda kv: -kv[1])
    return StateFile(path, size, entries, tuple(keys[:5]), True, len(projects))


def _compact_size(value: object) -> int:
    """Bytes of the value written as compact JSON."""
    return len(json.dumps(value, separators=(",", ":")))


def _object_size(obj: dict, value_sizes: list[int]) -> int:
    """_compact_size(obj), given the sizes of its values: braces, keys, colons and commas around them."""
    return 2 + max(0, len(obj) - 1) + sum(_compact_size(key) + 1 for key in obj) + sum(value_sizes)
