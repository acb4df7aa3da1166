"""`claude-preflight diagnose`: texts Claude Code really printed, named by cause; exit codes like grep."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from claude_preflight import catalogue, diagnose
from claude_preflight.env import Env
from claude_preflight.signatures import raw_patterns, table

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


@pytest.mark.parametrize("path", ["anchors", "grep"])
def test_line_numbers_hold_across_chunk_boundaries(monkeypatch, path):
    """Small chunks and no paste shortcut: the streamed prefilters count lines the same way."""
    force_path(monkeypatch, path)
    monkeypatch.setattr(diagnose, "CHUNK", 64)
    text = "".join(f"line {i} is ordinary\n" for i in range(1, 200)) + "Killed\n" + "tail\n" * 50
    [found] = diagnose.scan_stream(io.BytesIO(text.encode()), table())
    assert found.first_line == 200 and found.text == "Killed"


def force_path(monkeypatch, path: str) -> None:
    """Skip the paste shortcut and use one prefilter: bytes.find anchors, or GNU grep (skipped without it)."""
    monkeypatch.setattr(diagnose, "SMALL", 0)
    if path == "grep":
        if not diagnose.gnu_grep(Env(home=Path.home(), project=Path.cwd())):
            pytest.skip("no GNU grep on this machine")
    else:
        monkeypatch.setattr(diagnose, "gnu_grep", lambda env: None)


def cli(*args: str, stdin: bytes = b"", env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "claude_preflight.cli", "diagnose", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        env=env,
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


# -- the corpus: real pastes from public issues, labelled before the signatures were written -----

CORPUS = Path(__file__).parent / "diagnose_corpus"
sys.path.insert(0, str(CORPUS))
import evaluate  # noqa: E402  (tests/diagnose_corpus/evaluate.py: the same judgement the report's figures use)

SAMPLES = evaluate.load()


@pytest.mark.parametrize("sample", SAMPLES, ids=[s["id"] for s in SAMPLES])
def test_each_labelled_paste_names_its_cause(sample):
    """Fails when a sample's named cause changes: its label named, nothing outside label and `also`."""
    named = evaluate.named(sample["text"])
    recalled, right = evaluate.judge(sample, named)
    assert right, f"{sample['url']}: labelled {sample['cause']} (also {sample.get('also', [])}), named {named}"


def test_corpus_is_real_and_labelled():
    assert len(SAMPLES) >= 100 and sum(s["cause"] is None for s in SAMPLES) >= 8
    categories = set(table().categories())
    for sample in SAMPLES:
        assert re.match(r"https://github\.com/[^/]+/[^/]+/(issues|pull)/[0-9]+$", sample["url"]), sample["id"]
        assert sample["cause"] is None or sample["cause"] in categories, sample["id"]
        assert set(sample.get("also", [])) <= categories, sample["id"]
    assert len({s["id"] for s in SAMPLES}) == len(SAMPLES)


@pytest.mark.parametrize("path", ["anchors", "grep"])
def test_big_log_prefilters_agree_with_the_paste_path(monkeypatch, path):
    """Every corpus paste inside ordinary log noise: each prefilter finds what the paste path finds, on its line."""
    noise = "".join(f"2026-01-01 12:00:{i % 60:02d} GET /static/app.{i}.js 200 {i} ms\n" for i in range(40))
    log, expected = "", {}
    for sample in SAMPLES:
        start = log.count("\n") + len(noise.splitlines()) + 1
        log += noise + sample["text"] + "\n"
        for item in diagnose.scan_stream(io.BytesIO(sample["text"].encode()), table()):
            for match in item.matches.values():
                expected.setdefault(match.signature.id, start + match.first_line - 1)
    force_path(monkeypatch, path)
    found = diagnose.scan_stream(io.BytesIO(log.encode()), table())
    got = {m.signature.id: m.first_line for item in found for m in item.matches.values()}
    assert got == expected


# -- what real pastes look like --------------------------------------------------------------


def names(text: str) -> list[str]:
    return [c for item in diagnose.scan_stream(io.BytesIO(text.encode()), table()) for c in item.categories]


def test_ansi_colour_codes_are_stripped_and_never_echoed(tmp_path):
    coloured = (
        '\x1b[31m\x1b[1mAPI Error\x1b[22m: 529\x1b[0m {"type":"\x1b[33moverloaded_error\x1b[0m"}\x1b]0;title\x07\n'
    )
    assert names(coloured) == ["overload"]
    log = tmp_path / "coloured.log"
    log.write_bytes(coloured.encode() + b"\x1b[2J\x1b[31mKilled\x1b[0m\n")
    for args in ([str(log)], [str(log), "--json"]):
        done = cli(*args)
        assert done.returncode == 0 and b"\x1b" not in done.stdout and b"\x07" not in done.stdout
    assert "oom-killed" in json.loads(cli(str(log), "--json").stdout)["causes"][1]["categories"]


def test_wrapped_messages_are_joined():
    assert names('API Error: 403 {"error":{"type":"forbidden","message":"Request not \n     allowed"}}') == ["region"]
    assert names(
        "  \u23bf API Error: Claude's response exceeded the 32000 output \n    token maximum. To configure"
    ) == ["output-limit"]
    wrapped = 'API Error: 400 {"message":"messages.1.content.0: Invalid `signature` in \n    `thinking` block"}'
    [found] = diagnose.scan_stream(io.BytesIO(wrapped.encode()), table())
    assert found.categories == ["thinking-signature"] and found.count == 1  # one occurrence over two lines
    assert found.text.endswith('`thinking` block"}')


def test_mojibake_and_escaping_are_undone():
    assert names("You\u00e2\u20ac\u2122ve hit your limit \u00c2\u00b7 resets 4pm (Asia/Kuala_Lumpur)") == [
        "usage-limit"
    ]
    [found] = diagnose.scan_stream(io.BytesIO("Credit balance too low \u00c2\u00b7 Add funds".encode()), table())
    assert found.text == "Credit balance too low · Add funds"
    escaped = '{"error":"Error: 429 {\\"type\\":\\"error\\",\\"message\\":\\"This request would exceed your account\'\\\'\'s rate limit.\\"}"}'
    assert names(escaped) == ["usage-limit"]


def test_case_does_not_hide_the_word():
    assert names("zsh: KILLED     claude") == ["macos-killed"]
    assert names("error: econnreset while reading") == ["network-dropped"]


def test_a_match_needs_its_context():
    node12 = (
        "SyntaxError: Unexpected token '='\n    at Loader.moduleStrategy (internal/modules/esm/translators.js:133:18)"
    )
    assert names(node12) == ["node-too-old"]
    corrupt = (
        "Claude configuration file at /home/dev/.claude.json is corrupted: Unexpected token } in JSON at position 9"
    )
    assert names(corrupt) == ["config-corrupt"]
    api_text = 'SyntaxError: JSON Parse error: Unexpected identifier "There"\n    at parse (unknown)'
    assert names(api_text) == []  # an API message parsed as JSON, not a config file
    assert names(
        "npm error code EACCES\nnpm error Error: EACCES: permission denied, mkdir '/usr/local/lib/node_modules'"
    ) == ["npm-prefix"]
    assert names("Error: EACCES: permission denied, open '/home/dev/.claude.json'") == ["permissions"]
    assert names("took 529 ms to render 500 rows") == []  # numbers alone are not status codes


def test_every_cause_once_with_its_lines_and_next_command_once(tmp_path):
    log = tmp_path / "mixed.log"
    log.write_text(
        "API Error: 529 Overloaded. This is a server-side issue\n"
        "API Error: 500 Internal Server Error\n"
        "API Error: 529 Overloaded. This is a server-side issue\n"
        "You've hit your limit \u00b7 resets 4pm\n"
    )
    out = cli(str(log)).stdout.decode()
    assert out.count("Service-side error") == 1 and "line 1 (2 times)" in out and "line 2:" in out
    for command in {m.group(0) for m in re.finditer(r'claude-preflight -k "[^"]+"', out)}:
        assert out.count(command) == 1, command
    document = json.loads(cli(str(log), "--json").stdout)
    [service, usage] = document["causes"]
    assert service["cause"] == "service" and service["categories"] == ["overload", "server-error"]
    assert service["count"] == 3 and [m["line"] for m in service["matches"]] == [1, 2]
    assert usage["category"] == "usage-limit" and usage["next"] == 'claude-preflight -k "network.credentials"'


def test_hook_errors_point_to_the_hooks_checks():
    [found] = diagnose.scan_stream(
        io.BytesIO(b"PreToolUse:Bash hook error\n/bin/sh: entire: command not found"), table()
    )
    assert found.categories == ["hook-error"] and found.cause.next_command == "claude-preflight -k hooks"


def test_secrets_in_the_paste_are_masked_including_this_shells_secret_variables(tmp_path):
    token = "s3cr3t-Value-" + "q" * 20
    log = tmp_path / "leak.log"
    log.write_text(f"API Error: 401 invalid x-api-key MY_SERVICE_TOKEN was {token} here\n")
    env = {**os.environ, "MY_SERVICE_TOKEN": token, "DB_PASSWORD": "hunter2hunter2"}
    for args in ([str(log)], [str(log), "--json"]):
        done = cli(*args, env=env)
        assert done.returncode == 0 and token.encode() not in done.stdout and b"q" * 20 not in done.stdout
    assert diagnose.secrets_of({"MY_SERVICE_TOKEN": "x" * 8, "PATH": "/bin", "ANTHROPIC_API_KEY": "k" * 8}) == [
        "x" * 8,
        "k" * 8,
    ]


@pytest.mark.parametrize("path", ["anchors", "grep"])
def test_input_without_a_newline_is_streamed(monkeypatch, path):
    """8 MB on one line, the crash near its end: found in pieces, the line number stays 1."""
    force_path(monkeypatch, path)
    blob = b"x" * (8 << 20) + b" Error: ENOSPC: no space left on device " + b"y" * 1000
    [found] = diagnose.scan_stream(io.BytesIO(blob), table())
    assert found.categories == ["disk-full"] and found.first_line == 1 and found.count == 1
    assert len(found.text) <= diagnose.MAX_LINE + 2  # an excerpt around the match, with … where cut


def test_big_file_through_the_cli(tmp_path):
    """Over the paste size the file goes to the prefilter (grep reads it by name): same causes, same lines."""
    log = tmp_path / "big.log"
    noise = "".join(f"INFO request {i} served in {i % 97} ms\n" for i in range(60000))
    log.write_text(noise + "API Error (Connection error.) \u00b7 Retrying in 1 seconds\n" + noise + "Killed\n")
    assert log.stat().st_size > diagnose.SMALL
    causes = json.loads(cli(str(log), "--json").stdout)["causes"]
    assert [(c["category"], c["line"]) for c in causes] == [("network-connection", 60001), ("oom-killed", 120002)]


def test_stdin_without_a_newline_through_the_cli():
    blob = b"z" * (3 << 20) + b" Raw mode is not supported on the current process.stdin"
    done = cli("-", "--json", stdin=blob)
    assert done.returncode == 0 and json.loads(done.stdout)["causes"][0]["category"] == "no-terminal"


# -- the table itself --------------------------------------------------------------------------


def test_patterns_are_portable_between_python_and_grep():
    for pattern in raw_patterns():
        assert pattern.isascii() and "(?" not in pattern and "\\d" not in pattern, pattern
    for sig in table().signatures:
        assert all(len(anchor) >= 3 for anchor in sig.anchors), sig.id
    grep = diagnose.gnu_grep(Env(home=Path.home(), project=Path.cwd()))
    if grep:
        args = [a for p in raw_patterns() for a in ("-e", diagnose.grep_pattern(p))]
        done = subprocess.run([grep, "-E", "-i", *args, "/dev/null"], capture_output=True, timeout=30)
        assert done.returncode == 1, done.stderr  # 1: no match; 2 would be a pattern grep refuses


def test_categories_are_documented_and_checks_exist():
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme.split("## `claude-preflight diagnose`")[1].split("\n## ")[0]
    documented = re.findall(r"^\| `([a-z-]+)` \|", section, re.MULTILINE)
    assert documented == table().categories()
    known = {info.id for info in catalogue.CATALOGUE}
    for cause in table().causes.values():
        assert set(cause.checks) <= known, cause.id


@pytest.mark.parametrize("text", [
    # What the real Claude Code 2.1.332 printed in the hooks family's runs (tests/test_hooks_plugins.py).
    "PreToolUse:Bash hook error: [python3 /p/.claude/missing.py]: python3: can't open file '/p/.claude/missing.py'",
    "UserPromptSubmit operation blocked by hook: python3: can't open file '/p/.claude/missing.py'",
    "Invalid command hook (timeout: -5); entry ignored",
])  # fmt: skip
def test_the_hook_texts_the_real_cli_prints_name_the_hooks_cause(text):
    assert names(text) == ["hook-error"]
