"""Session transcripts (~/.claude/projects/<encoded cwd>/<session id>.jsonl): what they hold, read as a stream.

Users have gigabytes of history, so a transcript is never loaded whole: it is read in chunks and
searched for the few byte patterns that matter (an API error line, an embedded image); only the lines
those patterns are in are parsed, and never a line over the long-line limit. The end of a file (torn
last line, a tool_use left without its tool_result) is read on its own with pread.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import stat
import struct
import sys
from array import array
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from claude_preflight.env import Env, Finder
from claude_preflight.probes import history, once_per_run
from claude_preflight.probes.files import loads, read_json
from claude_preflight.probes.history import Transcript, TranscriptList, TranscriptView
from claude_preflight.records import dataclass, field, replace

# Exactly how Claude Code 2.1.330 writes these records (compact JSON, this key order).
API_ERROR = b'"isApiErrorMessage":true'
RETRY_ERROR = b'"subtype":"api_error"'
IMAGE = b'"type":"base64","media_type":"image/'
_MEDIA_AND_DATA = re.compile(rb'([a-z+.-]+)","data":"')
HEADER_BASE64 = 96 * 1024  # enough base64 to reach a JPEG's size marker behind its EXIF block
TAIL_BYTES = 64 * 1024  # the end of a session: its last records, where a torn line or an open tool_use is
CWD = b'"cwd":"'
TOOL_USE = b'"type":"tool_use"'
TOOL_ = b'"tool_'  # the common part of "tool_use" and "tool_result": the lines the end of a session is read by
NEWLINE = ord("\n")
_CWD = re.compile(rb'"cwd":"((?:[^"\\]|\\.)*)"')
_PLAIN_STRING = re.compile(rb"[^\\\x00-\x1f]*")  # a JSON string's body with no escape and no control character


def transcripts(env: Env, limit: int) -> TranscriptList:
    """Every top-level session transcript (sub-agent transcripts live one level deeper and are not resumed),
    from the run's one walk of the history."""
    return history.history(env, limit).transcripts


def recent(env: Env, found: Sequence[Transcript], days: float) -> Sequence[Transcript]:
    """Transcripts changed in the last `days` days (all of them when days <= 0), newest first."""
    cutoff = env.now() - days * 86400 if days > 0 else float("-inf")
    if isinstance(found, TranscriptList):
        return found.since(cutoff).newest_first()
    return sorted((t for t in found if t.mtime >= cutoff), key=lambda t: -t.mtime)


def bytes_by_project(found: Sequence[Transcript]) -> dict[str, int]:
    """Bytes of transcripts per project directory name, in listing order."""
    if isinstance(found, TranscriptList):
        return found.bytes_by_project()
    sizes: dict[str, int] = {}
    for transcript in found:
        sizes[transcript.project_dir.name] = sizes.get(transcript.project_dir.name, 0) + transcript.size
    return sizes


def largest(found: Sequence[Transcript], count: int) -> list[Transcript]:
    if isinstance(found, TranscriptList):
        return found.largest(count)
    return sorted(found, key=lambda t: -t.size)[:count]


def recent_scans(env: Env, policy) -> Sequence[Scan]:
    """The scans of the recent transcripts (all of them with --all-sessions), once per run: every session check
    asks for the same list. A parallel scan's worker processes are killed at the check's timeout."""
    return once_per_run(RECENT_SCANS, env, _scan_key(policy), lambda: start_recent_scans(env, policy).result())


def start_recent_scans(env: Env, policy) -> Scanning:
    """recent_scans begun (once per run): its workers, if it has any, scan from now on. The run starts it before
    pytest collects the checks, and cancels it when none of them is selected."""
    key = limit, days, line_limit = _scan_key(policy)
    return once_per_run(
        "recent-scans-begun",
        env,
        key,
        lambda: Scanning(env, recent(env, transcripts(env, limit), days), line_limit, policy.check_timeout_s),
    )


def _scan_key(policy) -> tuple[int, float, int]:
    return policy.scan_max_entries, policy.session_days, policy.line_limit_bytes


@dataclass(frozen=True)
class ErrorLine:
    """A line Claude Code wrote when a request failed: a retry notice or the final synthetic error.

    The lines of one session that say the same thing are one ErrorLine: a retry storm writes hundreds, and a
    history of 100k sessions held every one of them."""

    final: bool  # the synthetic assistant message (Claude Code gave up) rather than a retry notice
    status: int | None
    text: str  # what Claude Code showed, e.g. "401 invalid x-api-key"
    timestamp: str | None  # of the last such line
    cwd: str | None
    repeats: int = 1  # lines in the session with this final, status and text
    since: str | None = None  # the timestamp of the first of them, when there are several

    def again(self, later: ErrorLine) -> ErrorLine:
        """This line and a later one that says the same."""
        since = self.since or self.timestamp
        return ErrorLine(
            self.final, self.status, self.text, later.timestamp or self.timestamp, self.cwd, self.repeats + 1, since
        )


@dataclass(frozen=True)
class LongLine:
    offset: int
    length: int


def oversized(width: int | None, height: int | None, max_px: int) -> bool:
    """Wider or taller than the API accepts (an unknown size is not judged)."""
    return max(width or 0, height or 0) > max_px


@dataclass(frozen=True)
class Image:
    offset: int  # byte offset of the base64 data
    media_type: str
    width: int | None
    height: int | None

    def exceeds(self, max_px: int) -> bool:
        return oversized(self.width, self.height, max_px)


@dataclass(frozen=True)
class Tail:
    torn: bool  # no trailing newline and the last line is not JSON
    torn_bytes: int
    open_tool_uses: tuple[str, ...]  # tool_use names left without a tool_result at the end


@dataclass(frozen=True)
class Scan:
    transcript: Transcript
    cwd: str | None = None
    errors: tuple[ErrorLine, ...] = ()
    long_lines: tuple[LongLine, ...] = ()
    images: tuple[Image, ...] = ()
    tail: Tail | None = None
    problem: str | None = None  # could not be read at all
    bytes_read: int = field(default=0, compare=False)

    @property
    def project(self) -> str:
        return self.cwd or self.transcript.project_dir.name


CLEAN_TAIL = Tail(False, 0, ())
RECENT_SCANS = "recent-scans"  # the fact the session checks share (CheckSpec.uses)
PARALLEL_BYTES = 256 << 20  # above this, a scan is spread over the CPUs (one process each)


def scans(env: Env, found: Sequence[Transcript], line_limit: int, timeout: float | None = None) -> ScanList:
    """Scan each transcript (big histories on several CPUs, whose processes end at `timeout`)."""
    return Scanning(env, found, line_limit, timeout).result()


class Scanning:
    """A scan of many transcripts, begun: for a big history on a machine with CPUs to spare, worker processes
    take transcripts from the moment it is made; result() scans the ones left here and returns every Scan.

    Made before its result is wanted (start_recent_scans, while pytest still collects the checks), the workers
    use a CPU that would otherwise wait."""

    def __init__(self, env: Env, found: Sequence[Transcript], line_limit: int, timeout: float | None = None) -> None:
        self.env, self.found, self.line_limit = env, found, line_limit
        self.tasks: list[array] = []
        self.sharing = None
        self._outcome: ScanList | BaseException | None = None
        processes = min(env.cpu_count(), 4)
        total = found.total_size if isinstance(found, TranscriptView) else sum(t.size for t in found)
        if processes >= 2 and total >= PARALLEL_BYTES:
            # Many small tasks, taken by whichever process is free: they all end within a task of each other.
            self.tasks = _tasks(found, processes * TASKS_PER_PROCESS, total)
            self.sharing = env.share_out(_scan_task, (env, found, line_limit), self.tasks, processes, timeout)

    def result(self) -> ScanList:
        """The scans, in found's order; asked again, the same answer (or the same error: a timeout is not waited
        for twice)."""
        if self._outcome is None:
            try:
                self._outcome = self._result()
            except Exception as exc:  # noqa: BLE001 - raised again to every check that asks
                self._outcome = exc
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        return self._outcome

    def _result(self) -> ScanList:
        if self.sharing is None:
            return _scan_many(self.env, self.found, self.line_limit)
        # Let go of the tasks and their scans once gathered: the run keeps this object to its end.
        sharing, tasks, self.sharing, self.tasks = self.sharing, self.tasks, None, []
        task_of = array("H", bytes(2 * len(self.found)))
        for n, indices in enumerate(tasks):
            for index in indices:
                task_of[index] = n
        return ScanList.gathered(self.found, task_of, sharing.finish())

    def cancel(self) -> None:
        """Its result will not be wanted: the workers end."""
        if self.sharing is not None:
            self.sharing.cancel()


# Measured on the bench history with the memmem search: 50 us a file (open, end, records) and 2.4 GB/s.
FILE_COST_BYTES = 128 * 1024  # opening a transcript and reading its end cost about as much as scanning 128 kB
# A task is then about 15 ms of work at 2 GB; handing one out costs under 0.1 ms, and the processes end within a
# task or two of each other (the last tasks are the smallest).
TASKS_PER_PROCESS = 64


def _tasks(found: Sequence[Transcript], count: int, total: int) -> list[array]:
    """About `count` tasks of about equal cost (at most 2 * count + 1), the costliest first: runs of
    neighbouring transcripts (one folder's files), a transcript costlier than a task on its own. `total` is the
    bytes of all of found."""
    size_of = _size_of(found)
    target = (total + len(found) * FILE_COST_BYTES) // count + 1
    tasks: list[tuple[int, array]] = []
    run, cost = array("I"), 0
    for index in range(len(found)):
        own = size_of(index) + FILE_COST_BYTES
        if own >= target:
            tasks.append((own, array("I", [index])))
            continue
        run.append(index)
        cost += own
        if cost >= target:
            tasks.append((cost, run))
            run, cost = array("I"), 0
    if run:
        tasks.append((cost, run))
    tasks.sort(key=lambda task: -task[0])
    return [indices for _, indices in tasks]


def _scan_task(env: Env, found: Sequence[Transcript], line_limit: int, indices: array) -> ScanList:
    return _scan_many(env, _pick(found, indices), line_limit)


def _size_of(found: Sequence[Transcript]) -> Callable[[int], int]:
    """The size of found[index] by index: from a TranscriptView's size column, without making the Transcript."""
    return found.size if isinstance(found, TranscriptView) else (lambda index: found[index].size)


def _pick(found: Sequence[Transcript], indices: array) -> Sequence[Transcript]:
    if isinstance(found, TranscriptView):
        return TranscriptView(found.base, array("I", (found.indices[i] for i in indices)))
    return [found[i] for i in indices]


def _scan_many(env: Env, found: Sequence[Transcript], line_limit: int) -> ScanList:
    done = ScanList(found)
    buffer = ChunkBuffer(env, _chunk_size(line_limit))  # one for every transcript of this share
    for transcript in found:
        done.append(scan(env, transcript, line_limit, buffer))
    return done


class ScanList(Sequence):
    """The scans of many transcripts: those with a finding kept whole (less their Transcript, which `found` has),
    the clean ones (nearly all of them) as two numbers each, so that --all-sessions over 100k sessions holds a
    few MB; Scans are made on demand."""

    def __init__(self, found: Sequence[Transcript]) -> None:
        self.found = found
        self._kept: dict[int, Scan] = {}
        self._cwds: list[str | None] = []
        self._cwd_at: dict[str | None, int] = {}
        self._cwd = array("I")
        self._read = array("q")
        self._over: dict[int, array] = {}

    def append(self, done: Scan) -> None:
        if not _clean(done):
            self._kept[len(self._cwd)] = replace(done, transcript=None)
        self._add(done.cwd, done.bytes_read)

    def _add(self, cwd: str | None, bytes_read: int) -> None:
        index = self._cwd_at.setdefault(cwd, len(self._cwds))
        if index == len(self._cwds):
            self._cwds.append(cwd)
        self._cwd.append(index)
        self._read.append(bytes_read)

    @classmethod
    def gathered(cls, found: Sequence[Transcript], share_of: array, parts: list[ScanList]) -> ScanList:
        """The scans of parts of found (part n scanned, in found's order, the transcripts i with share_of[i] == n)
        back in found's order, column by column: no Scan is made for a clean transcript."""
        merged, taken = cls(found), [0] * len(parts)
        for i, n in enumerate(share_of):
            part, j = parts[n], taken[n]
            taken[n] += 1
            kept = part._kept.get(j)
            if kept is not None:
                merged._kept[i] = kept
            merged._add(part._cwds[part._cwd[j]], part._read[j])
        return merged

    def __len__(self) -> int:
        return len(self._cwd)

    def over(self, min_size: int) -> array:
        """The indices of the transcripts over min_size bytes (asked by several rules: found once)."""
        if min_size not in self._over:
            size_of = _size_of(self.found)
            self._over[min_size] = array("I", (index for index in range(len(self)) if size_of(index) > min_size))
        return self._over[min_size]

    @property
    def bytes_read(self) -> int:
        return sum(self._read)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        kept = self._kept.get(index)
        if kept is not None:
            # A copy with its Transcript, made as dataclasses.replace would, at a tenth of its cost: each session
            # rule asks for the kept scans again (15 rules over thousands of them).
            made = object.__new__(Scan)
            made.__dict__.update(kept.__dict__, transcript=self.found[index])
            return made
        return Scan(self.found[index], self._cwds[self._cwd[index]], tail=CLEAN_TAIL, bytes_read=self._read[index])

    def __iter__(self) -> Iterator[Scan]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "found": ()}

    __hash__ = None  # type: ignore[assignment]


def notable(scans: Sequence[Scan], min_size: int | None = None) -> Iterator[Scan]:
    """The scans that can hold a finding, in order: those with one, and (given min_size) those of transcripts over
    min_size bytes. A ScanList answers from its few kept scans and its size column, so a rule over 100k
    sessions does not make 100k Scans."""
    if not isinstance(scans, ScanList):
        yield from scans
        return
    at = set(scans._kept)
    if min_size is not None:
        at.update(scans.over(min_size))
    for index in sorted(at):
        yield scans[index]


def any_errors(scans: Sequence[Scan]) -> bool:
    """Does any scan hold an API error line? (A ScanList answers from its few kept scans.)"""
    if isinstance(scans, ScanList):
        return any(kept.errors for kept in scans._kept.values())
    return any(scan.errors for scan in scans)


def _clean(done: Scan) -> bool:
    return (
        done.problem is None
        and not done.errors
        and not done.long_lines
        and not done.images
        and (done.tail is CLEAN_TAIL or done.tail == CLEAN_TAIL)
    )


class ChunkBuffer:
    """The bytes a scan reads a transcript into, chunk by chunk, and the search over them (env.finder: the C
    library's where that is the faster one)."""

    def __init__(self, env: Env, size: int) -> None:
        self.data = bytearray(size)
        self.find = env.finder(self.data)


def scan(env: Env, transcript: Transcript, line_limit: int, buffer: ChunkBuffer | None = None) -> Scan:
    """One transcript's scan; `buffer` (of _chunk_size(line_limit) bytes) is the chunk buffer to reuse."""
    if buffer is None:  # one scan: no bigger than the file (allocating is not free)
        buffer = ChunkBuffer(env, max(1, min(_chunk_size(line_limit), transcript.size + 1)))
    try:
        with env.open_regular(transcript.path) as handle:
            return _Scanner(handle, transcript, line_limit).run(buffer)
    except OSError as exc:
        return Scan(transcript, problem=f"{type(exc).__name__}: {exc}")


def _chunk_size(line_limit: int) -> int:
    return max(4096, min(512 * 1024, line_limit // 2))


class _Scanner:
    """One pass over a transcript in chunks no longer than half the long-line limit.

    With chunks that small, a line longer than the limit always swallows a whole chunk, so a chunk with
    no newline is the only place a long line can be: normal chunks cost one short find.
    """

    def __init__(self, handle, transcript: Transcript, line_limit: int) -> None:
        self.handle, self.transcript, self.line_limit = handle, transcript, line_limit
        # (final, status, text) -> the offset of the first such line, and the ErrorLine that stands for them all
        self.errors: dict[tuple, tuple[int, ErrorLine]] = {}
        self.long_lines: list[LongLine] = []
        self.images: dict[int, Image] = {}
        self.cwd: str | None = None

    def run(self, buffer: ChunkBuffer) -> Scan:
        """Read into `buffer` chunk by chunk; a chunk is its first `read` bytes (a short last one is not copied)."""
        offset, tail, line_start, in_long_line, chunks = 0, b"", 0, False, 0
        chunk, find = buffer.data, buffer.find
        while read := self.handle.readinto(chunk):
            chunks += 1
            if self.cwd is None:
                self.cwd = _first_cwd(chunk, read, find)
            first = chunk.find(b"\n", 0, read)
            if first == -1:  # inside a line longer than a chunk: only images are looked for
                if not in_long_line:
                    self._images(tail, offset - len(tail))  # where this line began
                overlap = tail[-len(IMAGE) :]
                self._images(overlap + chunk[: len(IMAGE) - 1], offset - len(overlap))  # one across the seam
                self._images(chunk, offset, 0, read, find)
                in_long_line, tail = True, chunk[max(0, read - len(IMAGE)) : read]
                offset += read
                continue
            last = chunk.rfind(b"\n", 0, read)
            if in_long_line:
                self._long(line_start, offset + first - line_start)
                self._images(tail + chunk[: first + 1], offset - len(tail))
            elif tail:  # the line the last chunk ended in
                head = tail + chunk[: first + 1]
                self._lines(head, offset - len(tail), 0, len(head))
            else:  # this chunk starts a line: its lines are searched in place, the first one too
                first = -1
            self._lines(chunk, offset, first + 1, last + 1, find)
            tail, line_start, in_long_line = chunk[last + 1 : read], offset + last + 1, False
            offset += read
        if in_long_line:
            self._long(line_start, offset - line_start)
        elif tail:  # a last line without its newline
            self._lines(tail, offset - len(tail), 0, len(tail))
        return Scan(
            self.transcript,
            self.cwd,
            tuple(line for _, line in sorted(self.errors.values(), key=lambda found: found[0])),  # file order
            tuple(self.long_lines),
            tuple(self.images.values()),
            # A file read in one chunk still has its end in the buffer: no second read of it.
            _tail(self.handle, offset, self.line_limit, buffer if chunks == 1 else None),
            bytes_read=offset,
        )

    def _long(self, start: int, length: int) -> None:
        if length > self.line_limit:
            self.long_lines.append(LongLine(start, length))

    def _lines(self, data: bytes, base: int, start: int, end: int, find: Finder | None = None) -> None:
        """Look for error lines and images among the whole lines in data[start:end] (`find`: data.find, or
        the chunk buffer's faster search)."""
        find = find or data.find
        for marker in (API_ERROR, RETRY_ERROR):
            for line_start, line_end in _lines_with(data, find, marker, start, end):
                error = _error_line(data[line_start:line_end])
                if error:
                    key = (error.final, error.status, error.text)
                    seen = self.errors.get(key)
                    self.errors[key] = (base + line_start, error) if seen is None else (seen[0], seen[1].again(error))
        self._images(data, base, start, end, find)

    def _images(self, data: bytes, base: int, start: int = 0, end: int | None = None, find: Finder | None = None):
        find, end = find or data.find, len(data) if end is None else end
        at = find(IMAGE, start, end)
        while at != -1:
            where = base + at
            if where not in self.images:
                self.images[where] = _image_at(self.handle, where)
            at = find(IMAGE, at + 1, end)


def _first_cwd(chunk: bytes, end: int, find: Finder) -> str | None:
    """The first "cwd" value whole in chunk[:end] (found by `find`, then read by the regex where it is)."""
    at = find(CWD, 0, end)
    while at != -1:
        found = _CWD.match(chunk, at, end)
        if found:
            return _json_string(found.group(1))
        at = find(CWD, at + 1, end)
    return None


def _json_string(body: bytes) -> str | None:
    """A JSON string from the bytes between its quotes, as json.loads reads it; None if it is not valid."""
    try:
        if _PLAIN_STRING.fullmatch(body):  # nothing escaped: json.loads would only decode it (3 us a transcript)
            return body.decode("utf-8", "surrogatepass")
        return json.loads(b'"' + body + b'"')
    except ValueError:
        return None


def _error_line(line: bytes) -> ErrorLine | None:
    try:
        record = loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    if record.get("isApiErrorMessage") is True:
        texts = [str(block.get("text", "")) for block in _blocks(record)]
        status = record.get("apiErrorStatus")
        return ErrorLine(True, _status(status), _shared(" ".join(texts).strip()), *_where(record))
    if record.get("type") == "system" and record.get("subtype") == "api_error":
        error = record.get("error") if isinstance(record.get("error"), dict) else {}
        status = error.get("status")
        text = error.get("formatted") or error.get("message") or ""
        return ErrorLine(False, _status(status), _shared(str(text)), *_where(record))
    return None


def _status(value: object) -> int | None:
    return value if isinstance(value, int) else None


def _shared(text: object) -> object:
    """One object for each short text: a history of 100k sessions holds tens of thousands of error lines whose
    texts and folders repeat, and a worker's pickle (and so the copy made from it here) keeps one of each."""
    return sys.intern(text) if isinstance(text, str) and len(text) <= 1024 else text


def _where(record: dict) -> tuple[str | None, str | None]:
    return record.get("timestamp"), _shared(record.get("cwd"))


def _image_at(handle, offset: int) -> Image:
    """Read the image's header from the file itself: the data may continue far past the chunk in hand."""
    rest = Env.pread(handle.fileno(), len(IMAGE) + 64 + HEADER_BASE64, offset)[len(IMAGE) :]
    found = _MEDIA_AND_DATA.match(rest)
    if not found:
        return Image(offset, "image/?", None, None)
    data = rest[found.end() :].split(b'"', 1)[0].replace(b"\\/", b"/")
    width, height = image_size(b64_prefix(data))
    return Image(offset, "image/" + found.group(1).decode("ascii", "replace"), width, height)


def b64_prefix(data: bytes) -> bytes:
    usable = len(data) - len(data) % 4
    try:
        return base64.b64decode(data[:usable])
    except (binascii.Error, ValueError):
        return b""


def image_size(head: bytes) -> tuple[int | None, int | None]:
    """Width and height from the first bytes of a PNG, GIF, WebP or JPEG; (None, None) when unknown."""
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 24:
        return struct.unpack(">II", head[16:24])
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        return struct.unpack("<HH", head[6:10])
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp_size(head)
    if head[:2] == b"\xff\xd8":
        return _jpeg_size(head)
    return None, None


def _webp_size(head: bytes) -> tuple[int | None, int | None]:
    kind = head[12:16]
    if kind == b"VP8X" and len(head) >= 30:
        return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(head[27:30], "little")
    if kind == b"VP8L" and len(head) >= 25:
        bits = int.from_bytes(head[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if kind == b"VP8 " and len(head) >= 30:
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None, None


def _jpeg_size(head: bytes) -> tuple[int | None, int | None]:
    at = 2
    while at + 9 <= len(head):
        if head[at] != 0xFF:
            return None, None
        marker = head[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        length = struct.unpack(">H", head[at + 2 : at + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", head[at + 5 : at + 9])
            return width, height
        at += 2 + length
    return None, None


def _tail(handle, size: int, line_limit: int, whole: ChunkBuffer | None = None) -> Tail:
    """The end of the session (its last TAIL_BYTES of `size`, read unless `whole` holds the whole file): a torn
    last line, and tool_use blocks still waiting for their tool_result."""
    start = max(0, size - TAIL_BYTES)
    if whole is None:
        data: bytes | bytearray = Env.pread(handle.fileno(), size - start, start)
        low, high, find = 0, len(data), data.find
    else:  # searched in place: no copy of the window
        data, low, high, find = whole.data, start, size, whole.find
    torn_bytes = 0
    if high > low and data[high - 1] != NEWLINE:
        last = data.rfind(b"\n", low, high) + 1 or low
        try:
            loads(data[last:high])
        except ValueError:
            torn_bytes, high = high - last, last
    open_tool_uses = _open_tool_uses(data, low, high, start > 0, line_limit, find)
    return Tail(torn_bytes > 0, torn_bytes, open_tool_uses) if torn_bytes or open_tool_uses else CLEAN_TAIL


def _open_tool_uses(
    data: bytes | bytearray, low: int, high: int, cut_at_start: bool, line_limit: int, find: Finder
) -> tuple[str, ...]:
    """The tool_use blocks of the last line in data[low:high] that asked for tools, less those answered after it.
    `find` searches data (the last tool_use is found going forwards: most windows hold none or a few)."""
    at = _last(find, TOOL_USE, low, high)
    if at == -1:
        return ()
    line_start = data.rfind(b"\n", low, at) + 1 or low
    if line_start == low and cut_at_start:
        return ()  # that line began before the window: too long to be worth parsing here
    answered: set[str] = set()
    for begin, end in reversed(list(_lines_with(data, find, TOOL_, line_start, high))):
        record = _record(data[begin:end], line_limit, b'"tool_result"', b'"tool_use"')
        if record is None or record.get("isSidechain"):
            continue
        blocks = _blocks(record)
        if record.get("type") == "user":
            answered.update(b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result")
        elif record.get("type") == "assistant":
            uses = [b for b in blocks if b.get("type") == "tool_use"]
            if uses:
                return tuple(f"{b.get('name')} ({b.get('id')})" for b in uses if b.get("id") not in answered)
    return ()


def _lines_with(data: bytes | bytearray, find: Finder, needle: bytes, low: int, high: int) -> Iterator[tuple[int, int]]:
    """The (start, end) of each line of data[low:high] that holds needle, in order, its newline left out."""
    at = find(needle, low, high)
    while at != -1:
        start = data.rfind(b"\n", low, at) + 1 or low
        end = data.find(b"\n", at, high)
        end = high if end == -1 else end
        yield start, end
        at = find(needle, end, high)


def _last(find: Finder, needle: bytes, low: int, high: int) -> int:
    """Where needle last starts in [low, high), -1 if nowhere."""
    found, at = -1, find(needle, low, high)
    while at != -1:
        found, at = at, find(needle, at + 1, high)
    return found


def _record(line: bytes, line_limit: int, *markers: bytes) -> dict | None:
    """The JSON object on a line that holds one of the markers; None for long, other or broken lines."""
    if len(line) > line_limit:
        return None
    for marker in markers:
        if marker in line:
            break
    else:
        return None
    try:
        record = loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _content(record: dict):
    """message.content of a user or assistant record: a string, a list of blocks, or None."""
    message = record.get("message")
    return message.get("content") if isinstance(message, dict) else None


def _blocks(record: dict) -> list[dict]:
    content = _content(record)
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


@dataclass(frozen=True)
class SessionIndex:
    """A sessions-index.json (kept by older 2.1.x releases) beside the transcripts it lists."""

    path: Path
    project_dir: Path
    problem: str | None  # why it cannot be used (not JSON, no entries list)
    listed: tuple[str, ...] = ()
    stale: tuple[str, ...] = ()  # listed, but the transcript is gone
    unlisted: tuple[str, ...] = ()  # transcripts `--resume` cannot find

    @property
    def id(self) -> str:
        return self.project_dir.name

    @property
    def label(self) -> str:
        return self.project_dir.name


def session_indexes(env: Env, found: list[Transcript], max_bytes: int) -> list[SessionIndex]:
    by_dir: dict[Path, set[str]] | None = None  # made only when an index exists (most homes have none)
    indexes = []
    for project_dir, info in env.entries(env.config_dir / "projects"):
        path = project_dir / "sessions-index.json"
        if stat.S_ISDIR(info.st_mode) and env.exists(path):
            by_dir = _session_ids(found) if by_dir is None else by_dir
            indexes.append(_index(env, path, by_dir.get(project_dir, set()), max_bytes))
    return indexes


def _session_ids(found: Sequence[Transcript]) -> dict[Path, set[str]]:
    if isinstance(found, TranscriptList):
        return found.session_ids()
    by_dir: dict[Path, set[str]] = {}
    for transcript in found:
        by_dir.setdefault(transcript.project_dir, set()).add(transcript.session_id)
    return by_dir


def _index(env: Env, path: Path, present: set[str], max_bytes: int) -> SessionIndex:
    parsed = read_json(env, path, max_bytes)
    if parsed.state != "ok":
        return SessionIndex(path, path.parent, parsed.describe())
    entries = parsed.data.get("entries") if isinstance(parsed.data, dict) else None
    if not isinstance(entries, list):
        return SessionIndex(path, path.parent, 'no "entries" list')
    listed = [e.get("sessionId") for e in entries if isinstance(e, dict) and isinstance(e.get("sessionId"), str)]
    return SessionIndex(
        path,
        path.parent,
        None,
        tuple(listed),
        tuple(sorted(set(listed) - present)),
        tuple(sorted(present - set(listed))),
    )


def summarize(env: Env, transcript: Transcript, line_limit: int) -> dict:
    """A sessions-index.json entry for a transcript, in the shape older 2.1.x releases wrote."""
    first_prompt, count, created, modified, branch, cwd = "", 0, None, None, "", None
    with env.open_regular(transcript.path) as raw, io.BufferedReader(raw, 1 << 20) as handle:
        for line in handle:
            record = _record(line, line_limit, b'"type":"user"', b'"type":"assistant"')
            if record is None or record.get("type") not in ("user", "assistant"):
                continue
            count += 1
            created = created or record.get("timestamp")
            modified = record.get("timestamp") or modified
            branch = record.get("gitBranch") or branch
            cwd = cwd or record.get("cwd")
            content = _content(record)
            if not first_prompt and record.get("type") == "user" and isinstance(content, str):
                first_prompt = content[:200]
    return {
        "sessionId": transcript.session_id,
        "fullPath": str(transcript.path),
        "fileMtime": int(transcript.mtime * 1000),
        "firstPrompt": first_prompt or "No prompt",
        "messageCount": count,
        "created": created,
        "modified": modified,
        "gitBranch": branch,
        "projectPath": cwd,
        "isSidechain": False,
    }
