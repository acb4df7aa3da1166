"""`claude-preflight diagnose`: name the cause of a crash from its output or its session transcript.

Reads a log (a file, or - for stdin) as a stream, or a session's transcript (--session ID|latest), and
prints each cause it recognises with the matching line, the fix and the checks to run next. The
signatures are the table the sessions.crash-signatures check uses (data/crash-signatures.json).
Exit codes, like grep: 0 a cause was recognised, 1 nothing matched, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from claude_preflight.env import Env, NotRegularFile
from claude_preflight.redact import Redactor
from claude_preflight.signatures import Signature, Table, table

CHUNK = 4 << 20
MAX_LINE = 4096  # characters of a matching line that are shown


@dataclass
class Found:
    signature: Signature
    first_line: int | None  # line number in the input (None for a transcript's parsed record)
    text: str
    count: int = 1


def _anchors(signatures: Table) -> list[bytes]:
    """The longest literal of every pattern: a line can only match where one of these occurs."""
    try:
        from re import _constants as constants
        from re import _parser as parser
    except ImportError:  # Python 3.10
        import sre_constants as constants  # type: ignore[no-redef]
        import sre_parse as parser  # type: ignore[no-redef]
    found = set()
    for signature in signatures.signatures:
        for pattern in signature.patterns:
            runs, current = [], ""
            for op, value in parser.parse(pattern.pattern):
                if op == constants.LITERAL:
                    current += chr(value)
                else:
                    runs.append(current)
                    current = ""
            runs.append(current)
            found.add(max(runs, key=len).encode())
    # A literal that contains another is covered by the shorter one.
    return sorted(a for a in found if a and not any(b != a and b in a for b in found))


def scan_stream(stream: BinaryIO, signatures: Table) -> list[Found]:
    """Every recognised cause in a log, streamed: chunks cut at a newline, only lines holding an anchor decoded."""
    anchors = _anchors(signatures)
    found: dict[str, Found] = {}
    line_base, rest = 1, b""
    while True:
        chunk = stream.read(CHUNK)
        data = rest + chunk
        if not chunk:
            rest, end = b"", len(data)
        else:
            end = data.rfind(b"\n") + 1
            rest = data[end:]
        starts = set()
        for anchor in anchors:
            at = data.find(anchor, 0, end)
            while at != -1:
                starts.add(data.rfind(b"\n", 0, at) + 1)
                at = data.find(anchor, at + 1, end)
        for start in sorted(starts):
            stop = data.find(b"\n", start, end)
            line = data[start : stop if stop != -1 else end].decode("utf-8", "replace").rstrip("\r")
            signature = signatures.match(line)
            if signature:
                _add(found, signature, line_base + data.count(b"\n", 0, start), line)
        line_base += data.count(b"\n", 0, end)
        if not chunk:
            return list(found.values())


def _add(found: dict[str, Found], signature: Signature, line_no: int | None, text: str) -> None:
    if signature.id in found:
        found[signature.id].count += 1
    else:
        found[signature.id] = Found(signature, line_no, text.strip()[:MAX_LINE])


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
    found: dict[str, Found] = {}
    for error in scan.errors:
        signature = signatures.match(shown_text(error))
        if signature:
            _add(found, signature, None, shown_text(error))
    limits = Limits.of(policy)
    for kind, signature_id in (("image", "image-dimensions"), ("tool-use", "tool-result-missing")):
        problem = damaged(kind, scan, limits)
        if problem:
            _add(found, _by_id(signatures, signature_id), None, problem)
    return chosen.path, list(found.values())


def _by_id(signatures: Table, signature_id: str) -> Signature:
    return next(s for s in signatures.signatures if s.id == signature_id)


def as_text(source: str, found: list[Found], redact: Redactor) -> str:
    if not found:
        return (
            f"Nothing in {source} matched a known crash signature.\n"
            "Check this machine for the known causes instead:\n  claude-preflight"
        )
    out = [f"{len(found)} cause(s) recognised in {source}:"]
    for item in found:
        cause = item.signature.cause
        where = f"line {item.first_line}" if item.first_line else "transcript"
        times = f" ({item.count} lines)" if item.count > 1 else ""
        out += [
            "",
            f"{item.signature.title} -> {cause.title}",
            f"  {where}{times}: {redact(item.text)}",
            *(f"  {line}" for line in cause.fix.splitlines()),
            f"  Next: {cause.next_command}",
        ]
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
                    "cause": item.signature.cause.id,
                    "cause_title": item.signature.cause.title,
                    "line": item.first_line,
                    "text": redact(item.text),
                    "count": item.count,
                    "fix": item.signature.cause.fix,
                    "checks": list(item.signature.cause.checks),
                    "next": item.signature.cause.next_command,
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
            source, found = "standard input", scan_stream(sys.stdin.buffer, signatures)
        else:
            source = args.log
            with env.open_regular(Path(args.log)) as stream:
                found = scan_stream(stream, signatures)
    except (OSError, NotRegularFile, LookupError) as exc:
        print(f"claude-preflight diagnose: {exc}", file=sys.stderr)
        return 2
    redact = Redactor()
    print(as_json(source, found, redact) if args.json else as_text(source, found, redact))
    return 0 if found else 1
