"""The only code that changes a user's files, and only with --fix.

Every repair: refuses while a live Claude Code process has the session open, refuses when the file
changed since it was read, copies the file to a timestamped backup beside it first, writes the new
content to a temp file and renames it over the original (same permissions), and changes nothing
when there is nothing to repair, so a second --fix is a no-op.
"""

from __future__ import annotations

import dataclasses
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

from claude_preflight.env import Env, FileChanged, Stamp, current_platform
from claude_preflight.outcome import Repair
from claude_preflight.probes import sessions
from claude_preflight.probes.files import loads, read_json
from claude_preflight.probes.transcripts import (
    HEADER_BASE64,
    IMAGE,
    Scan,
    SessionIndex,
    Transcript,
    b64_prefix,
    image_size,
    notable,
    oversized,
    summarize,
)

_CHUNK = 1 << 20


def live_session_ids(env: Env) -> set[str]:
    """Sessions a running Claude Code process has open (its registry entry's pid is alive).

    Which processes are alive is this machine's question, also under --sysroot: a simulated /proc must never
    let a repair rewrite a transcript that a real session is writing.
    """
    # This machine's platform too: a --platform darwin simulation must not compare this machine's processes the
    # Mac way (ps lstart text), or a live session here would look dead and be rewritten.
    real = dataclasses.replace(env, sysroot=Path("/"), platform=current_platform())
    return {entry.session_id for entry in sessions.registry(real) if entry.alive and entry.session_id}


def _replace(env: Env, path: Path, chunks, mode: int, stamp: Stamp, saved: Path) -> str | None:
    """Write the repaired file; when the original changed meanwhile, leave it alone and drop our backup."""
    try:
        env.write_atomically(path, chunks, mode, unchanged=stamp)
    except FileChanged:
        saved.unlink(missing_ok=True)  # nothing was changed: the backup of it is not needed
        return "it changed while it was being repaired (a session is writing it): left as it was; run again"
    return None


def backup(env: Env, path: Path) -> Path:
    """A byte-identical copy beside the file: <name>.preflight-backup-<UTC time>[-n]."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(env.now()))
    for n in range(1, 1000):
        target = path.with_name(f"{path.name}.preflight-backup-{stamp}" + (f"-{n}" if n > 1 else ""))
        try:
            env.copy_exclusive(path, target)
            return target
        except FileExistsError:
            continue
    raise FileExistsError(f"no free backup name for {path}")


def _unchanged(env: Env, transcript: Transcript) -> str | None:
    try:
        info = env.stat(transcript.path)
    except OSError as exc:
        return f"cannot stat it now: {exc}"
    if (info.st_size, info.st_mtime) != (transcript.size, transcript.mtime):
        return "it changed since it was read (a session may be writing it): run again"
    return None


def _guarded(env: Env, transcript: Transcript, live: set[str]) -> str | None:
    if transcript.session_id in live:
        return "a running Claude Code process has this session open (~/.claude/sessions): quit it first"
    return _unchanged(env, transcript)


def drop_torn_line(env: Env, scan: Scan, live: set[str]) -> Repair | None:
    transcript, tail = scan.transcript, scan.tail
    if not tail or not tail.torn:
        return None
    refused = _guarded(env, transcript, live)
    if refused:
        return Repair(transcript.path, refused=refused)
    keep = transcript.size - tail.torn_bytes
    saved = backup(env, transcript.path)
    stamp = Stamp(transcript.size, transcript.mtime)
    refused = _replace(env, transcript.path, _prefix(env, transcript.path, keep), transcript.mode, stamp, saved)
    if refused:
        return Repair(transcript.path, refused=refused)
    return Repair(transcript.path, f"dropped the torn last line ({tail.torn_bytes:,} bytes)", saved)


def _prefix(env: Env, path: Path, size: int) -> Iterator[bytes]:
    with env.open_regular(path) as handle:
        left = size
        while left > 0:
            chunk = handle.read(min(_CHUNK, left))
            if not chunk:
                raise OSError(f"{path} shrank while it was copied")
            left -= len(chunk)
            yield chunk


NOTE = "[image removed by claude-preflight --fix: {w}x{h} px is over the API's {max} px limit]"


def strip_images(env: Env, scan: Scan, max_px: int, live: set[str]) -> Repair | None:
    transcript = scan.transcript
    if not any(image.exceeds(max_px) for image in scan.images):
        return None
    refused = _guarded(env, transcript, live)
    if refused:
        return Repair(transcript.path, refused=refused)
    removed: list[str] = []
    saved = backup(env, transcript.path)
    # Streamed: a failure half-way removes the temp file and leaves the transcript as it was.
    lines = _lines_without_big_images(env, transcript.path, transcript.size, max_px, removed)
    stamp = Stamp(transcript.size, transcript.mtime)
    refused = _replace(env, transcript.path, lines, transcript.mode, stamp, saved)
    if refused:
        return Repair(transcript.path, refused=refused)
    return Repair(transcript.path, f"replaced {len(removed)} image(s) ({', '.join(removed)} px) with a note", saved)


def _lines_without_big_images(env: Env, path: Path, size: int, max_px: int, removed: list[str]) -> Iterator[bytes]:
    """The transcript's first `size` bytes (what was scanned), lines with big images rewritten."""
    with env.open_regular(path) as raw, io.BufferedReader(raw, _CHUNK) as handle:
        left = size
        for line in handle:
            if left <= 0:
                break
            line = line[:left]
            left -= len(line)
            if IMAGE not in line:
                yield line
                continue
            try:
                record = loads(line)
            except ValueError:
                yield line
                continue
            before = len(removed)
            record = _strip(record, max_px, removed)
            if len(removed) == before:
                yield line
            else:
                ending = b"\n" if line.endswith(b"\n") else b""
                yield json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + ending


def _strip(node, max_px: int, removed: list[str]):
    if isinstance(node, list):
        return [_strip(item, max_px, removed) for item in node]
    if not isinstance(node, dict):
        return node
    source = node.get("source")
    if node.get("type") == "image" and isinstance(source, dict) and isinstance(source.get("data"), str):
        width, height = image_size(b64_prefix(source["data"][:HEADER_BASE64].encode("ascii", "replace")))
        if oversized(width, height, max_px):
            removed.append(f"{width}x{height}")
            return {"type": "text", "text": NOTE.format(w=width, h=height, max=max_px)}
    return {key: _strip(value, max_px, removed) for key, value in node.items()}


def rebuild_index(
    env: Env, index: SessionIndex, found: list[Transcript], line_limit: int, live: set[str]
) -> Repair | None:
    """List exactly the transcripts that exist: keep their entries, add the missing ones, drop the stale."""
    if not index.problem and not index.unlisted and not index.stale:
        return None
    if live & (set(index.unlisted) | set(index.stale)):
        return Repair(index.path, refused="a running Claude Code process has one of these sessions open: quit it")
    info = env.stat(index.path)
    stamp = Stamp(info.st_size, info.st_mtime)
    old = _old_document(env, index.path)
    kept = {e["sessionId"]: e for e in old.get("entries", []) if isinstance(e, dict) and "sessionId" in e}
    here = sorted((t for t in found if t.project_dir == index.project_dir), key=lambda t: t.mtime)
    entries = [kept.get(t.session_id) or summarize(env, t, line_limit) for t in here]
    document = {**old, "version": old.get("version", 1), "entries": entries}
    saved = backup(env, index.path)
    text = json.dumps(document, indent=2, ensure_ascii=False).encode() + b"\n"
    refused = _replace(env, index.path, [text], info.st_mode, stamp, saved)
    if refused:
        return Repair(index.path, refused=refused)
    added = sum(1 for t in here if t.session_id not in kept)
    dropped = len([s for s in kept if s not in {t.session_id for t in here}])
    return Repair(index.path, f"{len(entries)} session(s) listed: {added} added, {dropped} stale removed", saved)


def _old_document(env: Env, path: Path) -> dict:
    data = read_json(env, path, 64 << 20).data
    return data if isinstance(data, dict) else {}


# The transcript damage --fix repairs, by damage kind (rules.DAMAGE_KINDS marks the same ones repairable).
def _strip_images(env: Env, scan: Scan, policy, live: set[str]) -> Repair | None:
    return strip_images(env, scan, policy.image_max_px, live)


def _drop_torn_line(env: Env, scan: Scan, policy, live: set[str]) -> Repair | None:
    return drop_torn_line(env, scan, live)


REPAIRS = {"torn-line": _drop_torn_line, "image": _strip_images}


def repair_damage(env: Env, kind_id: str, scans: list[Scan], policy) -> list[Repair]:
    """Repair one kind of damage in every scanned transcript; [] for a kind that has no repair. (Both repairable
    kinds are findings of the scan itself, so only the scans with a finding are looked at.)"""
    repair = REPAIRS.get(kind_id)
    if repair is None:
        return []
    live = live_session_ids(env)
    return [done for scan in notable(scans) if (done := repair(env, scan, policy, live)) is not None]
