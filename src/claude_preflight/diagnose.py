"""`claude-preflight diagnose`: name the cause of a crash from its output or its session transcript.

Reads a log (a file, or - for stdin) as a stream, or a session's transcript (--session ID|latest), and
prints each cause it recognises once, with its matching lines, the fix and the check to run next. The
signatures are the table the sessions.crash-signatures check uses (data/crash-signatures.json).
Exit codes, like grep: 0 a cause was recognised, 1 nothing matched, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from claude_preflight.env import Env, NotRegularFile
from claude_preflight.redact import Redactor, is_secret_name
from claude_preflight.signatures import Cause, Signature, Table, clean, flat, raw_patterns, table

CHUNK = 4 << 20
SMALL = 1 << 20  # a paste: every line is cleaned and matched, so colour codes inside a phrase cannot hide it
PIECE = 64 << 10  # a longer line is matched in pieces of this size (a 400 MB line without a newline stays linear)
OVERLAP = 512  # bytes a piece repeats from the one before, so a message across the cut is still seen
MAX_LINE = 240  # characters of a matching line that are shown
EXCERPT_BEFORE = 60  # of them, before the match

# One item of a candidate stream: (line number, raw line or piece, whether the prefilter hit it).
# None separates runs of lines that are not consecutive.
Item = tuple[int, bytes, bool] | None


@dataclass
class Match:
    signature: Signature
    first_line: int | None  # line number in the input (None for a transcript's parsed record)
    text: str
    count: int = 1


@dataclass
class Found:
    """One cause as the user reads it: every signature of that cause that matched, in order of first line."""

    cause: Cause
    matches: dict[str, Match] = field(default_factory=dict)

    @property
    def first(self) -> Match:
        return next(iter(self.matches.values()))

    @property
    def signature(self) -> Signature:
        return self.first.signature

    @property
    def first_line(self) -> int | None:
        return self.first.first_line

    @property
    def text(self) -> str:
        return self.first.text

    @property
    def count(self) -> int:
        return sum(m.count for m in self.matches.values())

    @property
    def categories(self) -> list[str]:
        return list(dict.fromkeys(m.signature.category for m in self.matches.values()))


class Findings:
    """Causes in order of first appearance; an occurrence that runs over several lines counts once."""

    def __init__(self) -> None:
        self.by_cause: dict[str, Found] = {}
        self._last_line: dict[str, int] = {}

    def add(self, signature: Signature, line: int | None, text: str, last: int | None = None) -> None:
        if line is not None:
            if line <= self._last_line.get(signature.id, 0):
                return  # the same message, seen again from its next line or the next piece of a long line
            self._last_line[signature.id] = last if last is not None else line
        found = self.by_cause.setdefault(signature.cause.id, Found(signature.cause))
        if signature.id in found.matches:
            found.matches[signature.id].count += 1
        else:
            found.matches[signature.id] = Match(signature, line, text[: MAX_LINE + 2])

    def result(self) -> list[Found]:
        return list(self.by_cause.values())


# -- matching a stream of candidate lines -------------------------------------------------------


def _decode(raw: bytes) -> str:
    return flat(clean(raw.decode("utf-8", "replace")))


def match_items(items: Iterable[Item], signatures: Table, findings: Findings) -> None:
    """Match each hit line with one line before and two after it, in one pass and constant memory.

    A window of raw lines seen before is answered from a cache without decoding it again: a retry
    storm repeats the same few lines thousands of times.
    """
    window: list[tuple[int, bytes, bool]] = []
    decoded: dict[bytes, tuple[str, frozenset[int]]] = {}
    answers: dict[tuple[bytes, ...], tuple[Signature, int, int] | None] = {}

    def decode(raw: bytes) -> tuple[str, frozenset[int]]:
        if raw not in decoded:
            if len(decoded) > 4096:
                decoded.clear()
            text = _decode(raw)
            decoded[raw] = (text, signatures.candidates(text))
        return decoded[raw]

    def evaluate(at: int) -> None:
        key = tuple(w[1] for w in window[max(0, at - 1) : at + 3]) + (at > 0,)
        if key not in answers:
            lines = [decode(w[1]) for w in window]
            hit = signatures.match_window([text for text, _ in lines], at, [c for _, c in lines])
            if len(answers) > 4096:
                answers.clear()
            answers[key] = (hit.signature, hit.last - at, hit.start) if hit else None
        answer = answers[key]
        if answer:
            signature, extra, start = answer
            text = " ".join(decode(w[1])[0] for w in window[at : at + extra + 1])
            findings.add(signature, window[at][0], excerpt(text, start), window[at + extra][0])

    def flush() -> None:
        for at in range(max(0, len(window) - 2), len(window)):
            if window[at][2]:
                evaluate(at)
        window.clear()

    for item in items:
        if item is None:
            flush()
            continue
        window.append(item)
        if len(window) > 4:
            del window[0]
        if len(window) >= 3 and window[-3][2]:
            evaluate(len(window) - 3)
    flush()


def excerpt(text: str, start: int) -> str:
    """The part of a (long) line around where the match starts, marked with … where cut."""
    begin = max(0, start - EXCERPT_BEFORE)
    end = begin + MAX_LINE
    return ("…" if begin else "") + text[begin:end] + ("…" if end < len(text) else "")


def _pieces(line_no: int, raw: bytes, hit: bool) -> Iterator[tuple[int, bytes, bool]]:
    """A line, or a very long line cut into overlapping pieces that keep its line number."""
    if len(raw) <= PIECE:
        yield line_no, raw, hit
        return
    for start in range(0, len(raw), PIECE):
        yield line_no, raw[max(0, start - OVERLAP) : start + PIECE], hit


# -- where candidate lines come from ----------------------------------------------------------


def small_items(data: bytes) -> Iterator[Item]:
    """A paste: every line is a candidate (no prefilter on raw bytes that a colour code could split)."""
    for number, raw in enumerate(data.split(b"\n"), 1):
        yield from _pieces(number, raw.rstrip(b"\r"), True)


def anchor_items(stream: BinaryIO, signatures: Table, prefix: bytes = b"") -> Iterator[Item]:
    """Candidate lines found with bytes.find of each anchor, chunk by chunk; line numbers counted once."""
    anchors = signatures.anchors()
    reach = max(len(a) for a in anchors)
    line_base, carry, pending = 1, b"", prefix
    while True:
        chunk = pending or stream.read(CHUNK)
        pending = b""
        data = carry + chunk
        if not chunk:
            end = len(data)
        else:
            end = data.rfind(b"\n") + 1
            if end == 0 and len(data) > PIECE:
                end = len(data) - reach  # no newline for a long way: cut inside the line, keep the tail
        yield from _chunk_items(data, end, line_base, anchors)
        line_base += data.count(b"\n", 0, end)
        carry = data[end:]
        if not chunk:
            return


def _chunk_items(data: bytes, end: int, line_base: int, anchors: list[bytes]) -> Iterator[Item]:
    lowered = data.lower()
    limit = min(len(data), end + 64)
    starts = set()
    for anchor in anchors:
        at = lowered.find(anchor, 0, limit)
        while at != -1 and at < end:
            starts.add(max(data.rfind(b"\n", 0, at) + 1, at - PIECE // 2))
            at = lowered.find(anchor, at + 1, limit)
    # Each candidate with one line before and two after, in order; line numbers counted incrementally.
    spans: dict[int, tuple[int, bool]] = {}
    for start in sorted(starts):
        before = data.rfind(b"\n", 0, max(start - 1, 0)) + 1 if start > 0 and data[start - 1 : start] == b"\n" else -1
        if before >= 0:
            spans.setdefault(before, (start - 1, False))
        stop = _line_end(data, start, end)
        spans[start] = (stop, True)
        for _ in range(2):
            if stop >= end or data[stop : stop + 1] != b"\n":
                break
            nxt = stop + 1
            stop = _line_end(data, nxt, end)
            spans.setdefault(nxt, (stop, False))
    number, position, previous_stop = line_base, 0, -1
    for start in sorted(spans):
        stop, hit = spans[start]
        number += data.count(b"\n", position, start)
        position = start
        if previous_stop != -1 and start > previous_stop + 1:
            yield None
        yield from _pieces(number, data[start:stop].rstrip(b"\r"), hit)
        previous_stop = max(previous_stop, stop)
    yield None


def _line_end(data: bytes, start: int, end: int) -> int:
    stop = data.find(b"\n", start, end)
    return min(stop if stop != -1 else end, start + PIECE)


def gnu_grep(env: Env) -> str | None:
    """GNU grep, if this machine has one: its -E -i over raw bytes is the fast prefilter for big logs."""
    path = env.which("grep")
    if not path:
        return None
    try:
        done = subprocess.run([path, "--version"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return path if done.returncode == 0 and b"GNU grep" in done.stdout else None


def grep_pattern(pattern: str) -> str:
    """A table pattern for grep -E on raw text: a quote may come JSON-escaped (\\\")."""
    return pattern.replace('"', '\\\\*"')


def grep_items(
    grep: str, source: str | None, stream: BinaryIO | None, prefix: bytes, environ: dict[str, str]
) -> Iterator[Item]:
    """Lines grep -E -i finds with any table pattern, with one line of context before and two after."""
    command = [grep, "-E", "-i", "-a", "-n", "-B1", "-A2"]
    for pattern in raw_patterns():
        command += ["-e", grep_pattern(pattern)]
    command += ["--", source] if source else ["-"]
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE if source is None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**environ, "LC_ALL": "C"},  # bytes, not characters: fast, and -i folds ASCII only
    )
    feeder = None
    if source is None:
        feeder = threading.Thread(target=_feed, args=(process.stdin, prefix, stream), daemon=True)
        feeder.start()
    try:
        yield from _parse_grep(process.stdout)
    finally:
        process.stdout.close()
        if process.poll() is None:
            process.kill()
        process.wait()
        if feeder:
            feeder.join(timeout=5)


def _feed(pipe, prefix: bytes, stream: BinaryIO | None) -> None:
    try:
        pipe.write(prefix)
        while stream is not None:
            block = stream.read(CHUNK)
            if not block:
                break
            pipe.write(block)
    except (BrokenPipeError, OSError):
        pass
    finally:
        try:
            pipe.close()
        except OSError:
            pass


_GREP_LINE = re.compile(rb"(\d+)([:-])")


def _parse_grep(out) -> Iterator[Item]:
    line_no, hit, continuing, tail = 0, False, False, b""
    while True:
        piece = out.readline(PIECE)
        if not piece:
            return
        complete = piece.endswith(b"\n")
        if continuing:
            body = tail + piece.rstrip(b"\n")
        elif piece == b"--\n":
            yield None
            continue
        else:
            head = _GREP_LINE.match(piece)
            if not head:
                continue
            line_no, hit = int(head.group(1)), head.group(2) == b":"
            body = piece[head.end() :].rstrip(b"\n")
        yield line_no, body.rstrip(b"\r"), hit
        continuing = not complete
        tail = body[-OVERLAP:] if continuing else b""


# -- entry points -------------------------------------------------------------------------------


def scan_stream(stream: BinaryIO, signatures: Table, env: Env | None = None, source: str | None = None) -> list[Found]:
    """Every recognised cause in a log, streamed and linear in its size.

    A paste (up to SMALL bytes) has every line cleaned and matched. A bigger log is prefiltered:
    with GNU grep (-E -i over the table's own patterns) when there is one, else with bytes.find of
    each pattern's literal anchor; either way only candidate lines and their neighbours are decoded.
    """
    findings = Findings()
    head = stream.read(SMALL + 1)
    if len(head) <= SMALL:
        match_items(small_items(head), signatures, findings)
        return findings.result()
    env = env or Env(home=Path.home(), project=Path.cwd())
    grep = gnu_grep(env)
    if grep:
        items = grep_items(grep, source, None if source else stream, b"" if source else head, dict(env.environ))
    else:
        items = anchor_items(stream, signatures, head)
    match_items(items, signatures, findings)
    return findings.result()


def scan_session(env: Env, session: str, signatures: Table) -> tuple[Path, list[Found]]:
    """A session's API errors, and the transcript damage that makes every later request fail."""
    from claude_preflight.policy import Policy
    from claude_preflight.probes import transcripts
    from claude_preflight.rules.sessions import Limits, damaged, shown_text

    every = transcripts.transcripts(env, 10**6)
    chosen = (
        max(every, key=lambda t: t.mtime, default=None)
        if session == "latest"
        else next((t for t in every if t.session_id == session), None)
    )
    if chosen is None:
        raise LookupError(f"no session {session!r} under {env.config_dir / 'projects'}")
    policy = Policy()
    scan = transcripts.scan(env, chosen, policy.line_limit_bytes)
    findings = Findings()
    for error in scan.errors:
        signature = signatures.match(shown_text(error))
        for _ in range(error.repeats if signature else 0):  # the lines that said the same
            findings.add(signature, None, flat(clean(shown_text(error))))
    limits = Limits.of(policy)
    for kind, signature_id in (("image", "image-dimensions"), ("tool-use", "tool-result-missing")):
        problem = damaged(kind, scan, limits)
        if problem:
            findings.add(_by_id(signatures, signature_id), None, problem)
    return chosen.path, findings.result()


def _by_id(signatures: Table, signature_id: str) -> Signature:
    return next(s for s in signatures.signatures if s.id == signature_id)


def secrets_of(environ: Mapping[str, str]) -> list[str]:
    """Values of this shell's environment variables whose names say they are secrets (*_KEY, *_TOKEN ...)."""
    return [value for name, value in environ.items() if is_secret_name(name) and value]


def _next_line(cause: Cause) -> str | None:
    """The command to run next, unless the fix already says it (printed once)."""
    command = cause.next_command
    if not command:
        return "Next: nothing on this machine to check for this cause"
    return None if command in cause.fix else f"Next: {command}"


def as_text(source: str, found: list[Found], redact: Redactor) -> str:
    if not found:
        return (
            f"Nothing in {source} matched a known crash signature.\n"
            "Check this machine for the known causes instead:\n  claude-preflight"
        )
    out = [f"{len(found)} cause(s) recognised in {source}:"]
    for item in found:
        out += ["", f"{item.cause.title} [{', '.join(item.categories)}]"]
        for match in item.matches.values():
            where = f"line {match.first_line}" if match.first_line else "transcript"
            times = f" ({match.count} times)" if match.count > 1 else ""
            out.append(f"  {where}{times}: {redact(match.text)}")
        out += [f"  {line}" for line in item.cause.fix.splitlines()]
        following = _next_line(item.cause)
        if following:
            out.append(f"  {following}")
    return "\n".join(out)


def as_json(source: str, found: list[Found], redact: Redactor) -> str:
    return json.dumps(
        {
            "schema": "claude-preflight-diagnose/1",
            "source": source,
            "matched": bool(found),
            "causes": [
                {
                    "signature": item.signature.id,
                    "title": item.signature.title,
                    "cause": item.cause.id,
                    "cause_title": item.cause.title,
                    "category": item.categories[0],
                    "categories": item.categories,
                    "line": item.first_line,
                    "text": redact(item.text),
                    "count": item.count,
                    "fix": item.cause.fix,
                    "checks": list(item.cause.checks),
                    "next": item.cause.next_command,
                    "matches": [
                        {
                            "signature": m.signature.id,
                            "title": m.signature.title,
                            "category": m.signature.category,
                            "line": m.first_line,
                            "text": redact(m.text),
                            "count": m.count,
                        }
                        for m in item.matches.values()
                    ],
                }
                for item in found
            ],
        },
        indent=2,
        ensure_ascii=False,
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="claude-preflight diagnose", description=__doc__.split("\n\n")[0])
    parser.add_argument("log", nargs="?", help="crash output to read: a file, or - for standard input")
    parser.add_argument("--session", metavar="ID", help="read this session's transcript instead (or: latest)")
    parser.add_argument("--home", metavar="PATH", help="home whose ~/.claude is read for --session (default: $HOME)")
    parser.add_argument("--json", action="store_true", help="print JSON (claude-preflight-diagnose/1)")
    args = parser.parse_args(argv)  # exits 2 on a usage error
    if bool(args.log) == bool(args.session):
        parser.error("give a log file (or -) or --session, one of them")
    env = Env(home=Path(args.home or Path.home()).absolute(), project=Path.cwd())
    signatures = table()
    try:
        if args.session:
            path, found = scan_session(env, args.session, signatures)
            source = str(path)
        elif args.log == "-":
            source, found = "standard input", scan_stream(sys.stdin.buffer, signatures, env)
        else:
            source = args.log
            with env.open_regular(Path(args.log)) as stream:
                found = scan_stream(stream, signatures, env, source=str(Path(args.log).absolute()))
    except (OSError, NotRegularFile, LookupError) as exc:
        print(f"claude-preflight diagnose: {exc}", file=sys.stderr)
        return 2
    redact = Redactor(secrets_of(env.environ))
    print(as_json(source, found, redact) if args.json else as_text(source, found, redact))
    return 0 if found else 1
