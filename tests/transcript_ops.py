"""Damage real transcripts the way crashes and big inputs do; used by case directories, tests and bench/.

The records added are copies of records Claude Code 2.1.330 wrote (tests/fixtures/real-claude/transcripts),
with only the fields that matter changed. Images are real PNG and GIF files built here (zlib and a few
header bytes); JPEG and WebP are header-only stand-ins (no encoder is available here), which is all a
reader of image dimensions looks at.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from pathlib import Path

COMPACT = {"separators": (",", ":"), "ensure_ascii": False}


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def _first_user(path: Path) -> dict:
    return next(r for r in _records(path) if r.get("type") == "user")


def _append(path: Path, record: dict) -> None:
    with open(path, "ab") as out:
        out.write(json.dumps(record, **COMPACT).encode() + b"\n")


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x00" * width for _ in range(height))  # grey, filter 0
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00" + b",\x00\x00\x00\x00" + b";"


def jpeg_header(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    exif = b"\xff\xe1" + struct.pack(">H", 2 + 3000) + b"Exif\x00\x00" + b"\x00" * 2994  # pushes SOF back
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + exif + sof + b"\xff\xd9"


def webp_header(width: int, height: int) -> bytes:
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little")
    vp8x += (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x


IMAGES = {"png": png, "gif": gif, "jpeg": jpeg_header, "webp": webp_header}


def image_record(path: Path, kind: str, width: int, height: int) -> dict:
    """A user message with an image block, as Claude Code writes one (pasted image or Read tool result)."""
    record = _first_user(path)
    data = base64.b64encode(IMAGES[kind](width, height)).decode()
    record["message"] = {
        "role": "user",
        "content": [
            {"type": "text", "text": "what is in this screenshot?"},
            {"type": "image", "source": {"type": "base64", "media_type": f"image/{kind}", "data": data}},
        ],
    }
    return record


def add_image(path: Path, op: dict) -> None:
    _append(path, image_record(path, op.get("format", "png"), op["width"], op["height"]))


def head(path: Path, op: dict) -> None:
    """Keep the first N lines: a session that stopped there."""
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[: op["lines"]]))


def cut(path: Path, op: dict) -> None:
    """Drop the last N bytes: a write cut short by SIGKILL."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - op["bytes"]])


def grow(path: Path, op: dict) -> None:
    """Append copies of the transcript's own attachment records until it is `mb` MB."""
    records = [r for r in _records(path) if r.get("type") == "attachment"] or _records(path)
    target = int(op["mb"] * 1e6)
    lines = [json.dumps(r, **COMPACT).encode() + b"\n" for r in records]
    with open(path, "ab") as out:
        size, i = path.stat().st_size, 0
        while size < target:
            out.write(lines[i % len(lines)])
            size += len(lines[i % len(lines)])
            i += 1


def long_line(path: Path, op: dict) -> None:
    """Append a tool result of `mb` MB on one line (a huge command output)."""
    record = _first_user(path)
    text = ("x" * 99 + "\n") * int(op["mb"] * 1e6 / 100)
    record["message"] = {
        "role": "user",
        "content": [{"tool_use_id": "toolu_fake_0", "type": "tool_result", "content": text, "is_error": False}],
    }
    _append(path, record)


def bloat_state(path: Path, op: dict) -> None:
    """Give ~/.claude.json per-project prompt history (as releases before 2.1.x kept) until it is `mb` MB."""
    document = json.loads(path.read_text())
    projects = document.setdefault("projects", {})
    entry = {"display": "refactor the parser and run the tests " * 20, "pastedContents": {}}
    for i, directory in enumerate(op["projects"]):
        projects.setdefault(directory.replace("{root}", str(path.parent.parent)), {})["history"] = [entry] * (
            int(op["mb"] * 1e6 / 800 / len(op["projects"])) * (i + 1) // len(op["projects"]) * 2
        )
    path.write_text(json.dumps(document))


OPS = {"bloat-state": bloat_state, "head": head, "cut": cut, "grow": grow, "image": add_image, "long-line": long_line}
