"""Reading JSON files that may be missing, huge, binary, a FIFO, a directory or a symlink loop."""

from __future__ import annotations

import errno
import json
from pathlib import Path
from typing import Any

from claude_preflight.env import Env, NotRegularFile, TooLarge
from claude_preflight.records import dataclass


@dataclass(frozen=True)
class JsonError:
    message: str
    line: int
    column: int
    line_text: str
    at_end: bool = False  # the text ended before the JSON did


@dataclass(frozen=True)
class JsonFile:
    """What reading one JSON file found. `state` is one of:

    missing, not-a-file, unreadable, too-large, too-deep, invalid-json, ok
    """

    path: Path
    state: str
    size: int | None = None
    kind: str | None = None  # for not-a-file: "directory", "FIFO (named pipe)", ...
    error: str | None = None  # OS error text for unreadable
    data: Any = None
    json_error: JsonError | None = None
    bad_utf8: tuple[int, int] | None = None  # (line, column) of the first invalid byte
    errno: int | None = None  # for unreadable

    @property
    def exists(self) -> bool:
        return self.state != "missing"

    def describe(self) -> str:
        """What is wrong, in one line ("ok" when nothing is)."""
        if self.state == "invalid-json" and self.json_error:
            e = self.json_error
            return f"invalid JSON at line {e.line}, column {e.column}: {e.message}"
        if self.state == "not-a-file":
            return f"a {self.kind}, not a file"
        if self.state == "unreadable":
            return f"cannot be read: {self.error}"
        if self.state == "too-deep":
            return f"JSON nested deeper than {MAX_DEPTH} levels: not read"
        if self.state == "too-large":
            return f"{self.size:,} bytes: too large to read (config_max_mb)"
        return "does not exist" if self.state == "missing" else self.state


def _reject_constant(name: str) -> Any:
    # JavaScript's JSON.parse (what Claude Code uses) rejects NaN and Infinity; so do we.
    raise ValueError(f"{name} is not valid JSON")


def _position(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    return line, len(data[start:offset].decode("utf-8", "replace")) + 1


def _describe(text: str, message: str, pos: int) -> JsonError:
    # Python before 3.13 reports a trailing comma at the next token; point at the comma itself, as 3.13 does.
    rest = text[pos:].lstrip()
    before = text[:pos].rstrip()
    if rest[:1] in ("}", "]") and before.endswith(","):
        pos = len(before) - 1
        message = f"Illegal trailing comma before end of {'object' if rest[0] == '}' else 'array'}"
    if not text.strip():
        message = "file is empty"
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    lines = text.splitlines()
    line_text = lines[line - 1] if 0 < line <= len(lines) else ""
    return JsonError(message, line, column, line_text[:300], pos >= len(text.rstrip()))


# No file Claude Code writes nests anywhere near this deep; deeper input is hostile or broken, and past about
# 1,000 levels Python's parser (and every recursive walk of ours) would raise RecursionError.
MAX_DEPTH = 200


class TooDeep(ValueError):
    """JSON nested deeper than MAX_DEPTH (a ValueError, so callers that skip bad JSON skip it too)."""

    def __init__(self) -> None:
        super().__init__(f"nested deeper than {MAX_DEPTH} levels")


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether containers nest more than `limit` levels: level by level (no recursion, and 4-6x faster than a
    stack of (value, depth) pairs on a 5 MB ~/.claude.json)."""
    level = [data]
    for _ in range(limit):  # after n rounds, level holds the containers at depth n + 1
        level = [c for v in level for c in (v.values() if isinstance(v, dict) else v) if isinstance(c, (dict, list))]
        if not level:
            return False
    return True


def loads(text: str | bytes) -> Any:
    """json.loads as JavaScript's JSON.parse reads (no NaN/Infinity), within MAX_DEPTH; raises ValueError."""
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise TooDeep() from None
    if isinstance(data, (dict, list)) and _may_nest(text) and _deeper_than(data, MAX_DEPTH):
        raise TooDeep()
    return data


def _may_nest(text: str | bytes) -> bool:
    """Cheap guard: fewer opening brackets than the limit cannot nest past it."""
    if isinstance(text, str):
        return text.count("[") + text.count("{") > MAX_DEPTH
    return text.count(b"[") + text.count(b"{") > MAX_DEPTH


def parse_json(text: str) -> tuple[Any, JsonError | None]:
    """The data, or where the JSON is broken; raises TooDeep for nesting past MAX_DEPTH."""
    try:
        return loads(text), None
    except TooDeep:
        raise
    except json.JSONDecodeError as exc:
        return None, _describe(text, exc.msg, exc.pos)
    except ValueError as exc:
        return None, JsonError(str(exc), 1, 1, "")


def read_raw(env: Env, path: Path, max_bytes: int) -> tuple[bytes | None, JsonFile]:
    """A file's bytes within `max_bytes`; when there are none, the JsonFile says why (missing, not-a-file, ...)."""
    try:
        raw = env.read_bytes(path, max_bytes)
    except FileNotFoundError:
        # A dangling symlink is "missing" too, as it is for Claude Code.
        return None, JsonFile(path, "missing")
    except NotRegularFile as exc:
        return None, JsonFile(path, "not-a-file", kind=exc.kind)
    except TooLarge as exc:
        return None, JsonFile(path, "too-large", size=exc.size)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, JsonFile(path, "not-a-file", kind="symbolic link loop")
        if exc.errno == errno.EISDIR:
            return None, JsonFile(path, "not-a-file", kind="directory")
        return None, JsonFile(path, "unreadable", error=f"{exc.strerror or exc} (errno {exc.errno})", errno=exc.errno)
    return raw, JsonFile(path, "ok", size=len(raw))


# A file at least this big is read and parsed once per run while it stays the same file (inode, size, times):
# ~/.claude.json grows with every project and its prompt history (5 MB was read and parsed 13 times a run).
SHARED_PARSE_BYTES = 256 << 10


def read_json(env: Env, path: Path, max_bytes: int) -> JsonFile:
    """Read and parse one JSON file within `max_bytes`, turning every failure into facts.

    A big file is read once per run while it is unchanged, and its `data` is then shared by every caller: read
    it, never change it.
    """
    try:
        info = env.stat(path)
    except (OSError, ValueError):  # the read below says what is wrong
        info = None
    if info is None or info.st_size < SHARED_PARSE_BYTES:
        return _read_json(env, path, max_bytes)
    version = (info.st_ino, info.st_dev, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    return env.this_run.by_version(("json", str(path), max_bytes), version, lambda: _read_json(env, path, max_bytes))


def parse_read(env: Env, path: Path, raw: bytes, max_bytes: int) -> JsonFile:
    """The JsonFile of `raw`, just read from `path` within `max_bytes`: parsed here when small; a big file is the
    run's one parse of it (read_json), which the checks share."""
    return _parsed(path, raw) if len(raw) < SHARED_PARSE_BYTES else read_json(env, path, max_bytes)


def _read_json(env: Env, path: Path, max_bytes: int) -> JsonFile:
    raw, found = read_raw(env, path, max_bytes)
    return found if raw is None else _parsed(path, raw)


def _parsed(path: Path, raw: bytes) -> JsonFile:
    bad_utf8 = None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_utf8 = _position(raw, exc.start)
        text = raw.decode("utf-8", "replace")
    try:
        data, error = parse_json(text)
    except TooDeep:
        return JsonFile(path, "too-deep", size=len(raw))
    state = "invalid-json" if error else "ok"
    return JsonFile(path, state, size=len(raw), data=data, json_error=error, bad_utf8=bad_utf8)
