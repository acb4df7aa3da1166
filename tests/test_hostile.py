"""Hostile input: a clone of someone else's repository, a damaged home. Whatever is in the files, every check
ends in a clear result of its own (never an internal error), and the other checks are unaffected."""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path

import pytest
from caserunner import FIXTURES, load_checks

from claude_preflight.checking import REGISTRY, run_targets
from claude_preflight.env import Env
from claude_preflight.policy import Policy
from claude_preflight.probes.files import MAX_DEPTH, TooDeep, loads
from claude_preflight.rules.mcp import NUL_REFUSED

DEEP = 100_000  # what the issue measured: RecursionError in 4-13 checks


STATIC = Policy(offline=True, mcp_start=False)


def run_all(env: Env, policy: Policy = STATIC) -> dict[str, object]:
    """Every check on every target: {"check id/target id": Result}."""
    load_checks()
    return {
        f"{check_id}/{getattr(target, 'id', '-')}": result
        for check_id, spec in sorted(REGISTRY.items())
        for target, result in run_targets(spec, env, policy)
    }


def digest(root: Path) -> dict[str, bytes]:
    """Every file under root with its bytes: a run that changes none leaves this equal."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def internal_errors(results: dict) -> list[str]:
    return [f"{key}: {r.summary}" for key, r in results.items() if "internal error" in r.summary]


@pytest.fixture
def world(tmp_path):
    home, project = tmp_path / "home", tmp_path / "project"
    for directory in (home / ".claude" / "sessions", home / ".claude" / "projects" / "-p", project / ".claude"):
        directory.mkdir(parents=True)
    (tmp_path / "tmp").mkdir()
    environ = {"PATH": os.environ["PATH"], "HOME": str(home), "TMPDIR": str(tmp_path / "tmp")}
    return home, project, environ


def env_of(world, **extra: str) -> Env:
    home, project, environ = world
    return Env(home=home, project=project, sysroot=Path("/nonexistent-sysroot"), environ={**environ, **extra})


@pytest.mark.parametrize("shape", ["[" * DEEP + "]" * DEEP, '{"a":' * DEEP + "1" + "}" * DEEP])
def test_json_nested_100000_deep_is_one_clear_fail_per_file(world, shape):
    home, project, _ = world
    claude = home / ".claude"
    files = {
        "config.file/user-state": home / ".claude.json",
        "config.file/user-settings": claude / "settings.json",
        "config.file/project-settings": project / ".claude" / "settings.json",
        "config.file/project-local-settings": project / ".claude" / "settings.local.json",
        "config.file/project-mcp": project / ".mcp.json",
        "sessions.index/-p": claude / "projects" / "-p" / "sessions-index.json",
    }
    for path in files.values():
        path.write_text(shape)
    (claude / "sessions" / "4242.json").write_text(shape)
    (claude / ".credentials.json").write_text(shape)
    transcripts = claude / "projects" / "-p"
    (transcripts / "a.jsonl").write_text('{"type":"user"}\n' + shape + "\n")  # a deep line inside
    (transcripts / "b.jsonl").write_text('{"type":"user"}\n' + shape)  # a deep torn tail
    before = digest(home.parent)
    results = run_all(env_of(world))
    assert internal_errors(results) == []
    assert digest(home.parent) == before  # read-only: no file under home or project changed
    for key in files:
        assert results[key].status.value == "fail", key
        assert f"nested deeper than {MAX_DEPTH} levels" in results[key].text(), key
    untouched = [k for k in results if k.startswith(("disk.", "permissions.path", "memory.headroom"))]
    assert untouched and all(results[k].status.value != "fail" for k in untouched)


def test_depth_bound_is_exact():
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(TooDeep):
        loads("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    with pytest.raises(TooDeep):  # deep enough that Python's own parser gives up
        loads(b"[" * DEEP + b"]" * DEEP)


def test_odd_numbers_are_results_not_internal_errors(world):
    home, project, _ = world
    claude = home / ".claude"
    (claude / ".credentials.json").write_text(
        '{"claudeAiOauth": {"accessToken": "sk-ant-oat01-abcdefghijklmnopqrst", "expiresAt": 1' + "0" * 400 + "}}"
    )
    (claude / "sessions" / "4242.json").write_text(
        json.dumps({"pid": 4242, "sessionId": "s1", "cwd": str(project)})[:-1] + ', "startedAt": 1' + "0" * 30 + "}"
    )
    env = env_of(world, CLAUDE_CODE_MAX_RETRIES="9" * 400, MCP_TIMEOUT="²", API_TIMEOUT_MS="1" + "0" * 20)
    results = run_all(env)
    assert internal_errors(results) == []
    timeouts = results["network.timeouts/-"]
    assert timeouts.status.value == "fail" and "CLAUDE_CODE_MAX_RETRIES" in timeouts.text()
    assert "MCP_TIMEOUT='²' is not a whole number" in timeouts.text()
    assert results["network.credentials/-"].status.value == "ok"  # an expiry past any clock: never expires
    killed = results["memory.killed-sessions/-"]
    assert killed.status.value == "warn" and "started ?" in killed.text()


# -- MCP servers: one bad server never loses the others' results; nothing the run started survives it ----------
def test_one_odd_server_never_loses_the_others(world_with_servers):  # noqa: F811
    home, project, pids, environ = world_with_servers
    write_user(home, {
        "good": tiny("ok"),
        "nul-arg": {"command": PY, "args": [TINY, "ok\0evil"]},
        "surrogate-env": {"command": PY, "args": [TINY, "ok"], "env": {"X": "\ud800"}},
        "bad-port": {"type": "http", "url": "http://127.0.0.1:99999/mcp"},
        "crlf-header": {"type": "http", "url": "http://127.0.0.1:9/mcp", "headers": {"X": "a\r\nInjected: 1"}},
        "closes-stdout": tiny("close-stdout"),
    })  # fmt: skip
    r = mcp_results(home, project, environ)
    assert internal_errors(r) == []
    assert r["user:good"].status.value == "ok" and "answered" in r["user:good"].summary
    # Node passes a lone surrogate on as U+FFFD, so Claude Code starts that server: so do we.
    assert r["user:surrogate-env"].status.value == "ok"
    for name in ("nul-arg", "bad-port", "crlf-header", "closes-stdout"):
        assert r[f"user:{name}"].status.value == "fail", (name, r[f"user:{name}"].summary)
    assert "closed its stdout" in r["user:closes-stdout"].summary
    assert NUL_REFUSED in r["user:nul-arg"].text()
    assert "Injected" not in r["user:crlf-header"].text()


def test_the_nul_advice_quotes_what_claude_code_printed():
    """mcp-list/odd-servers.jsonl: `claude mcp list` of 2.1.330 with a NUL byte in a server's argument or command."""
    rows = [json.loads(line) for line in (FIXTURES / "mcp-list" / "odd-servers.jsonl").read_text().splitlines()]
    printed = [row["printed"] for row in rows if "\0" in "".join([row["server"]["command"], *row["server"]["args"]])]
    quoted = NUL_REFUSED.split('("', 1)[1].split('")', 1)[0]
    assert len(printed) == 2 and all(all(part in text for part in quoted.split(" … ")) for text in printed)
    # A server that closes its stdout and keeps running: Claude Code waited MCP_TIMEOUT, as the "closed" advice says.
    closed = next(row for row in rows if "os.close(1)" in " ".join(row["server"]["args"]))
    assert "connection timed out after 8000ms" in closed["printed"] and closed["seconds"] >= 8


def test_a_double_forked_setsid_daemon_does_not_outlive_the_check(world_with_servers):  # noqa: F811
    home, project, pids, environ = world_with_servers
    write_user(home, {"forks": tiny("daemon")})
    r = mcp_results(home, project, environ)
    assert r["user:forks"].status.value == "ok"
    assert len(list(pids.glob("*.pid"))) == 2  # the server and its daemon both ran (the fixture proves both died)


def test_many_silent_servers_end_within_the_family_budget(world_with_servers):  # noqa: F811
    """40 silent servers, 16 at a time, MCP_TIMEOUT longer than the check: without the family budget the check
    would outlive check_timeout_s and every MCP result would be an internal error."""
    home, project, pids, environ = world_with_servers
    write_user(home, {f"silent{n:02d}": tiny("silent") for n in range(40)})
    policy = Policy(mcp_timeout_s=60, check_timeout_s=4)
    r = mcp_results(home, project, environ, policy)
    assert internal_errors(r) == []
    statuses = {key: result.status.value for key, result in r.items() if key.startswith("user:")}
    assert len(statuses) == 40
    assert {"warn"} <= set(statuses.values()) <= {"fail", "warn"}  # answered none; some never had a turn
    assert any("time budget ran out" in r[k].summary for k in statuses)


class Trickler:
    """A server on 127.0.0.1 that answers one byte every 0.1 s, well within any per-read timeout, for minutes."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn) -> None:
        conn.recv(65536)
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 10_000:
            if self.stop.wait(0.1):
                break
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                break
        conn.close()

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


def test_an_http_server_that_trickles_is_cut_at_the_overall_deadline():
    """Each byte arrives well within the per-read timeout; only the overall deadline ends the exchange."""
    from claude_preflight import net

    trickler = Trickler()
    try:
        x = net.exchange(f"http://127.0.0.1:{trickler.port}/", environ={}, timeout=1.0, deadline_s=1.5)
    finally:
        trickler.close()
    assert not x.ok and "overall deadline" in (x.error or "")


def test_a_trickling_http_mcp_server_is_that_servers_fail_within_its_timeout(world_with_servers):  # noqa: F811
    home, project, pids, environ = world_with_servers
    trickler = Trickler()
    try:
        write_user(home, {"slow": {"type": "http", "url": f"http://127.0.0.1:{trickler.port}/mcp"}, "good": tiny("ok")})
        r = mcp_results(home, project, environ, Policy(mcp_timeout_s=1, check_timeout_s=20))
    finally:
        trickler.close()
    assert internal_errors(r) == []
    assert r["user:slow"].status.value == "fail" and "overall deadline" in r["user:slow"].text()
    assert r["user:good"].status.value == "ok"


# The MCP helpers of test_mcp.py, with a fixture that counts processes around each test.
from test_mcp import PY, TINY, tiny, write_user  # noqa: E402
from test_mcp import results as mcp_results  # noqa: E402
from test_mcp import world as world_with_servers  # noqa: E402, F401 (a fixture)

# -- secrets: none reaches the terminal, HTML, JSON or JUnit ---------------------------------------------------
ARG_SECRET = "planted-arg-secret-after-flag-A1r9"
ARG_EQUALS = "planted-arg-secret-equals-B2s8"
HELPER_KEY = "sk-ant-api03-plantedhelperkey-C3t7"
HELPER_EXTRA = "planted-second-line-of-helper-D4u6"
NEWLINE_KEY = "sk-ant-api03-plantednewlinekey-E5v5\ntrailing-part-F6w4"


def test_no_secret_from_args_helpers_or_odd_keys_in_any_output(pytester, tmp_path, monkeypatch):
    import homes
    from test_plugin import run_suite

    home, project = homes.build(tmp_path / "leaks")
    state = json.loads((home / ".claude.json").read_text())
    state["mcpServers"] = {
        "flags": {"command": "/nonexistent/server", "args": ["--api-key", ARG_SECRET, f"--token={ARG_EQUALS}"]},
    }
    (home / ".claude.json").write_text(json.dumps(state))
    helper = f"printf '%s\\n%s\\n' {HELPER_KEY} {HELPER_EXTRA}"
    (home / ".claude" / "settings.json").write_text(json.dumps({"apiKeyHelper": helper}))
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "https://127.0.0.1:9")
    junit, out = pytester.path / "junit.xml", pytester.path / "out.json"
    result = run_suite(pytester, home, project, "-k", "mcp or network", "-rA", "-v", f"--junitxml={junit}",
                       "--json", str(out), machine=True)  # fmt: skip
    terminal = result.stdout.str() + result.stderr.str()
    assert "user:flags: command not found" in terminal  # the server's result was shown, args and all
    assert "the helper's output" in terminal and "malformed" in terminal  # a key no header can carry: a fail
    outputs = {"terminal": terminal, "junit": junit.read_text(), "json": out.read_text(),
               "html": (pytester.path / "reports" / "claude-preflight.html").read_text()}  # fmt: skip
    for where, text in outputs.items():
        for secret in (ARG_SECRET, ARG_EQUALS, HELPER_KEY, HELPER_EXTRA):
            assert secret[:-4] not in text, f"{secret} leaked into the {where} output"


def test_a_key_with_a_newline_is_a_clear_fail_and_never_sent(world):
    results = run_all(env_of(world, ANTHROPIC_API_KEY=NEWLINE_KEY), Policy(offline=False, mcp_start=False,
                                                                           network_timeout_s=1))  # fmt: skip
    assert internal_errors(results) == []
    credentials = results["network.credentials/-"]
    assert credentials.status.value == "fail" and "ANTHROPIC_API_KEY is malformed" in credentials.summary
    assert results["network.api-key/-"].status.value == "skip"  # not sent anywhere


def test_redaction_fails_closed_when_a_secret_file_cannot_be_read(world):
    from claude_preflight.probes.secrets import collect_secrets
    from claude_preflight.redact import Redactor

    home, project, _ = world
    token = "customsecretvalue1234567890abcdefXYZ"
    (home / ".claude" / ".credentials.json").write_text('{"claudeAiOauth": {"accessToken": "' + token + '",}}')
    secrets = collect_secrets(env_of(world), 1 << 20)
    assert secrets.complete is False
    redact = Redactor(secrets)
    assert token not in redact(f"the token {token} was rejected")
    session = "ba05e2af-f266-4977-a803-495d0eb5ec50"
    assert session in redact(f"claude --resume {session}")  # session ids stay usable
    assert str(project) in redact(f"cd '{project}'")  # and so do paths
    healthy = Redactor(collect_secrets(Env(home=project, project=project, environ={}), 1 << 20))
    assert token in healthy(f"the token {token} was rejected")  # only the incomplete set masks more


def test_an_untrusted_projects_api_key_helper_never_runs(world, tmp_path):
    """A cloned repository's .claude/settings.json names an apiKeyHelper: it runs only once the user trusts the
    folder. The marker file proves it never ran before."""
    home, project, _ = world
    marker = tmp_path / "helper-ran"
    helper = f"touch '{marker}'; echo sk-ant-api03-projecthelper-0000000000"
    (project / ".claude" / "settings.json").write_text(json.dumps({"apiKeyHelper": helper}))
    (home / ".claude.json").write_text(json.dumps({"projects": {str(project): {"hasTrustDialogAccepted": False}}}))
    results = run_all(env_of(world))
    assert results["network.credentials/-"].status.value == "skip"
    assert "not trusted" in results["network.credentials/-"].summary and not marker.exists()
    (home / ".claude.json").write_text(json.dumps({"projects": {str(project): {"hasTrustDialogAccepted": True}}}))
    results = run_all(env_of(world))
    assert results["network.credentials/-"].status.value == "ok" and marker.exists()


# -- interrupted runs: nothing the run started survives, and the reports hold what finished ----------------------
@pytest.mark.parametrize("what", ["servers", "helper"])
def test_ctrl_c_mid_run_leaves_no_process_and_writes_the_reports(tmp_path, what):
    import signal
    import subprocess
    import sys
    import time

    import homes
    import psutil
    from test_plugin import CHECKS

    home, project = homes.build(tmp_path / "interrupted")
    pids = tmp_path / "pids"
    pids.mkdir()
    state = json.loads((home / ".claude.json").read_text())
    if what == "servers":  # 64 silent servers: 16 answering nothing, 48 queued behind them
        state["mcpServers"] = {f"silent{n:02d}": tiny("silent") for n in range(64)}
    else:  # a slow apiKeyHelper whose shell has started a child of its own
        state["mcpServers"] = {}
        helper = f"{PY} {TINY} silent & sleep 30; echo sk-ant-api03-never"
        (home / ".claude" / "settings.json").write_text(json.dumps({"apiKeyHelper": helper}))
    (home / ".claude.json").write_text(json.dumps(state))
    report = tmp_path / "out.json"
    environ = {**os.environ, "TINY_PID_DIR": str(pids), "ANTHROPIC_BASE_URL": "https://127.0.0.1:9"}
    environ.pop("ANTHROPIC_API_KEY", None)
    environ.pop("ANTHROPIC_AUTH_TOKEN", None)
    argv = [sys.executable, "-m", "pytest", str(CHECKS), "-p", "claude_preflight.plugin", "-p", "no:cacheprovider",
            "--home", str(home), "--project", str(project), "-o", f"reports_dir={tmp_path / 'reports'}",
            "-o", "mcp_timeout_s=60", "-o", "probe_timeout_s=60", "--json", str(report),
            "-k", "mcp or credentials or config"]  # fmt: skip
    run = subprocess.Popen(argv, env=environ, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        wanted = 16 if what == "servers" else 1
        while len(list(pids.glob("*.pid"))) < wanted and time.monotonic() < deadline and run.poll() is None:
            time.sleep(0.05)
        assert len(list(pids.glob("*.pid"))) >= wanted, run.communicate()[0].decode()[-2000:]
        run.send_signal(signal.SIGINT)
        sent = time.monotonic()
        output = run.communicate(timeout=30)[0].decode()
        took = time.monotonic() - sent
    finally:
        if run.poll() is None:
            run.kill()
    started = [int(p.read_text()) for p in pids.glob("*.pid")]
    survivors = [p for p in started if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert survivors == [], f"still running after Ctrl-C: {survivors}"
    assert took < 10, f"took {took:.1f} s to stop after Ctrl-C"  # the promise is 2 s; 10 leaves CI room
    print(f"stopped {took:.2f} s after Ctrl-C; {len(started)} processes started, none left")
    assert report.exists(), output[-2000:]
    finished = json.loads(report.read_text())["checks"]
    assert any(r["id"] == "config.file" for r in finished)  # what finished before the signal is reported
