"""`claude-preflight diagnose`: texts Claude Code really printed, named by cause; exit codes like grep."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from claude_preflight import diagnose
from claude_preflight.signatures import table

FIXTURES = Path(__file__).parent / "fixtures" / "real-claude"

# Texts from tests/fixtures/real-claude (FINDINGS.md, mcp-logs, transcripts) and the Node/Bun/Linux messages.
REAL_TEXTS = {
    "Claude configuration file at /home/dev/.claude.json is corrupted: JSON Parse error: Expected '}'": "config",
    "These settings did not load: /home/dev/.claude/settings.json: Invalid or malformed JSON": "config",
    "Error: ENOSPC: no space left on device, write": "disk",
    "Error: EACCES: permission denied, open '/home/dev/.claude.json'": "permissions",
    "Error: EMFILE: too many open files, watch": "limits",
    "Error: ENOSPC: System limit for number of file watchers reached, watch '/src'": "limits",
    "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory": "memory",
    "oh no: Bun has crashed. This indicates a bug in Bun, not your code.": "memory",
    "Killed": "memory",
    "zsh: illegal hardware instruction  claude": "install",
    "Illegal instruction (core dumped)": "install",
    "Error: Raw mode is not supported on the current process.stdin": "install",
    "Unable to connect to API (SELF_SIGNED_CERT_IN_CHAIN)": "tls",
    "API Error: Connection error. Connection dropped (ECONNRESET)": "network",
    "Connection refused - a firewall or proxy may be blocking it (ECONNREFUSED)": "network",
    "Request timed out. Check your internet connection and proxy settings": "network",
    "API Error: 400 messages.3: `tool_use` ids were found without `tool_result` blocks immediately after": "transcript",
    "API Error: 400 messages.0.content.1.image.source.base64.data: At least one of the image dimensions exceed max "
    "allowed size for many-image requests: 2000 pixels": "transcript",
    "API Error: 400 prompt is too long: 208380 tokens > 200000 maximum": "context",
    "API Error: 529 Repeated 529 Overloaded errors": "service",
    "API Error: 500 Out of memory. This is a server-side issue, usually temporary": "service",
    "API Error: 403 Your organization has disabled API key authentication": "credentials",
}


@pytest.mark.parametrize("text", sorted(REAL_TEXTS))
def test_each_known_text_names_its_cause(text):
    found = diagnose.scan_stream(io.BytesIO(f"noise before\n{text}\nnoise after\n".encode()), table())
    assert [f.signature.cause.id for f in found] == ([REAL_TEXTS[text]] if REAL_TEXTS[text] else [])
    if found:
        assert found[0].first_line == 2


def test_real_mcp_log_and_transcript_lines(tmp_path):
    mcp = (FIXTURES / "mcp-logs" / "mcp-logs-localstdio.ENOENT.jsonl").read_bytes()
    assert {f.signature.id for f in diagnose.scan_stream(io.BytesIO(mcp), table())} == {"mcp-enoent"}
    transcript = (FIXTURES / "transcripts" / "err.print-429.jsonl").read_bytes()
    [found] = diagnose.scan_stream(io.BytesIO(transcript), table())
    assert found.signature.cause.id == "rate-limit" and found.count == 11


def test_line_numbers_hold_across_chunk_boundaries(monkeypatch):
    monkeypatch.setattr(diagnose, "CHUNK", 64)
    text = "".join(f"line {i} is ordinary\n" for i in range(1, 200)) + "Killed\n" + "tail\n" * 50
    [found] = diagnose.scan_stream(io.BytesIO(text.encode()), table())
    assert found.first_line == 200 and found.text == "Killed"


def cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "claude_preflight.cli", "diagnose", *args], input=stdin, capture_output=True, timeout=60
    )


def test_exit_codes_are_like_grep(tmp_path):
    log = tmp_path / "crash.log"
    log.write_text("starting\nAPI Error: 401 invalid x-api-key sk-ant-api03-" + "x" * 40 + "\n")
    done = cli(str(log))
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert "line 2" in out and 'claude-preflight -k "network.credentials or network.api-key"' in out
    assert "x" * 40 not in out  # the key in the log is masked
    assert cli("-", stdin=b"all good\n").returncode == 1
    assert cli(str(tmp_path / "missing.log")).returncode == 2
    assert cli().returncode == 2  # neither a log nor --session


def test_json_and_session_latest(tmp_path):
    projects = tmp_path / "home" / ".claude" / "projects" / "-home-dev-src-p"
    projects.mkdir(parents=True)
    shutil.copyfile(FIXTURES / "transcripts" / "err.print-500oom.jsonl", projects / "s1.jsonl")
    done = cli("--session", "latest", "--home", str(tmp_path / "home"), "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["schema"] == "claude-preflight-diagnose/1" and document["matched"]
    [cause] = document["causes"]
    assert cause["signature"] == "api-500-oom" and cause["cause"] == "service" and cause["count"] == 11
    assert cli("--session", "nope", "--home", str(tmp_path / "home")).returncode == 2
