"""MCP checks with real servers: a small stdio server of our own in several bad moods, mcp-server-time from PyPI,
a streamable-HTTP server on 127.0.0.1, a server answering 401 and a closed port. Processes are counted around
every test: none may outlive a check, also when the run is interrupted."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest
from caserunner import load_checks

from claude_preflight.checking import REGISTRY, run, run_targets
from claude_preflight.env import Env
from claude_preflight.outcome import Status
from claude_preflight.policy import Policy

TINY = str(Path(__file__).parent / "mcp_servers" / "tiny.py")
PY = sys.executable
POLICY = Policy(mcp_timeout_s=5)


def alive(pid_dir: Path) -> list[int]:
    pids = [int(p.read_text()) for p in pid_dir.glob("*.pid")]
    return [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A home and project, a pid directory every tiny server reports to, and a before/after process count."""
    home, project, pids = tmp_path / "home", tmp_path / "project", tmp_path / "pids"
    for d in (home, project, pids):
        d.mkdir()
    me = psutil.Process()
    before = len(me.children(recursive=True))
    environ = {"PATH": os.environ["PATH"], "TINY_PID_DIR": str(pids), "HOME": str(home)}
    yield home, project, pids, environ
    deadline = time.monotonic() + 5
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pids), "a server process outlived its check"
    assert len(me.children(recursive=True)) <= before, "the check left child processes behind"


def write_user(home: Path, servers: dict, project: Path | None = None, local: dict | None = None) -> None:
    state = {"mcpServers": servers, "projects": {}}
    if local is not None:
        state["projects"][str(project)] = {"mcpServers": local}
    (home / ".claude.json").write_text(json.dumps(state))


def results(home, project, environ, policy=POLICY) -> dict[str, object]:
    load_checks()
    env = Env(home=home, project=project, sysroot=Path("/nonexistent-sysroot"), environ=environ)
    out = {target.id: result for target, result in run_targets(REGISTRY["mcp.server"], env, policy)}
    out["context"] = run(REGISTRY["mcp.context"], env, policy)
    return out


def tiny(mode: str, *args: str, **extra) -> dict:
    return {"type": "stdio", "command": PY, "args": [TINY, mode, *args], "env": extra}


def test_a_good_server_answers_with_its_tools(world):
    home, project, pids, environ = world
    write_user(home, {"good": tiny("ok", "4")})
    r = results(home, project, environ)
    assert r["user:good"].status is Status.OK
    assert "tiny 1.0 answered" in r["user:good"].summary and "4 tool(s)" in r["user:good"].summary
    assert "protocol 2025-06-18" in r["user:good"].text()
    assert r["context"].status is Status.OK and "user:good: 4 tools" in r["context"].text()
    assert len(list(pids.glob("*.pid"))) == 1  # it really ran


@pytest.mark.parametrize(
    "mode, words",
    [
        ("exit", ["exited with code 3 before answering", "stderr: tiny: cannot connect to the database"]),
        ("stdout-logs", ["not JSON-RPC to stdout: INFO tiny server starting", "logs to stdout"]),
        ("error", ["answered with an error", "tiny: not configured"]),
    ],
)
def test_broken_servers_say_why(world, mode, words):
    home, project, pids, environ = world
    write_user(home, {"bad": tiny(mode)})
    result = results(home, project, environ)["user:bad"]
    assert result.status is Status.FAIL
    for word in words:
        assert word in result.text()
    assert f"{PY} {TINY} {mode}" in result.remediation  # the command to run by hand


def test_a_silent_server_times_out_honouring_mcp_timeout(world):
    home, project, pids, environ = world
    write_user(home, {"silent": tiny("silent")})
    result = results(home, project, {**environ, "MCP_TIMEOUT": "700"})["user:silent"]
    assert result.status is Status.FAIL and "no answer within 0.7 s" in result.summary
    assert "MCP_TIMEOUT" in result.remediation


def test_missing_commands_name_the_runtime(world):
    home, project, pids, environ = world
    write_user(
        home,
        {
            "gone": {"command": "/nonexistent/cmd", "args": ["arg1"]},
            "npx-server": {"command": "npx", "args": ["-y", "x"]},
        },
    )
    r = results(home, project, {**environ, "PATH": str(project)})  # a PATH without node
    assert r["user:gone"].status is Status.FAIL and "command not found: /nonexistent/cmd" in r["user:gone"].summary
    assert "ENOENT" in r["user:gone"].remediation
    assert r["user:npx-server"].status is Status.FAIL and "Install Node.js" in r["user:npx-server"].remediation


def test_unset_variables_and_defaults(world):
    home, project, pids, environ = world
    write_user(home, {
        "needs-var": {"command": PY, "args": [TINY, "ok"], "env": {"TOKEN": "${PREFLIGHT_UNSET_TOKEN}"}},
        "has-default": {"command": PY, "args": [TINY, "${PREFLIGHT_MODE:-ok}"]},
    })  # fmt: skip
    r = results(home, project, environ)
    assert r["user:needs-var"].status is Status.FAIL and "PREFLIGHT_UNSET_TOKEN" in r["user:needs-var"].summary
    assert r["user:has-default"].status is Status.OK
    assert len(list(pids.glob("*.pid"))) == 1  # the broken one was never started


def test_malformed_entries(world):
    home, project, pids, environ = world
    write_user(home, {"no-command": {"args": []}, "bad-args": {"command": "x", "args": "--flag"},
                      "bad-type": {"type": "websocket", "url": "ws://x"}, "no-url": {"type": "http"}})  # fmt: skip
    r = results(home, project, environ)
    assert 'needs "command"' in r["user:no-command"].summary
    assert '"args" must be a list of strings' in r["user:bad-args"].summary
    assert 'type "websocket" is not one of' in r["user:bad-type"].summary
    assert 'needs "url"' in r["user:no-url"].summary
    assert all(r[k].status is Status.FAIL for k in ("user:no-command", "user:bad-args", "user:bad-type", "user:no-url"))


def test_unapproved_project_server_is_never_started(world, tmp_path):
    home, project, pids, environ = world
    marker = tmp_path / "started.marker"
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {"proj": tiny("ok", TINY_MARKER=str(marker))}}))
    write_user(home, {})
    r = results(home, project, environ)
    assert r["project:proj"].status is Status.OK and "not approved yet" in r["project:proj"].summary
    assert not marker.exists()
    (project / ".claude").mkdir()
    (project / ".claude" / "settings.local.json").write_text('{"enabledMcpjsonServers": ["proj"]}')
    # The project approves its own server, but the user never trusted the folder: still never started.
    untrusted = results(home, project, environ)["project:proj"]
    assert "not trusted" in untrusted.summary and not marker.exists()
    assert any(line.startswith("to check it by hand") for line in untrusted.evidence)
    trust(home, project)
    assert "answered" in results(home, project, environ)["project:proj"].summary and marker.exists()


@pytest.mark.parametrize("approval", ["enableAllProjectMcpServers", "enabledMcpjsonServers"])
@pytest.mark.parametrize("settings", ["settings.json", "settings.local.json"])
def test_an_untrusted_project_cannot_approve_its_own_server(world, tmp_path, approval, settings):
    """A cloned repository's settings approve its .mcp.json server: Claude Code (2.1.196+) starts nothing there
    until the user trusts the folder, and neither do we. The marker file proves the server never ran."""
    home, project, pids, environ = world
    marker = tmp_path / "started.marker"
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {"evil": tiny("ok", TINY_MARKER=str(marker))}}))
    (project / ".claude").mkdir()
    value = True if approval == "enableAllProjectMcpServers" else ["evil"]
    (project / ".claude" / settings).write_text(json.dumps({approval: value}))
    state = {"projects": {str(project): {"hasTrustDialogAccepted": False, "enabledMcpjsonServers": ["evil"]}}}
    (home / ".claude.json").write_text(json.dumps(state))
    result = results(home, project, environ)["project:evil"]
    assert result.status is Status.OK and "not trusted" in result.summary
    assert not marker.exists() and not list(pids.glob("*.pid"))


def trust(home: Path, project: Path) -> None:
    state = json.loads((home / ".claude.json").read_text())
    state.setdefault("projects", {}).setdefault(str(project), {})["hasTrustDialogAccepted"] = True
    (home / ".claude.json").write_text(json.dumps(state))


def test_no_mcp_start_keeps_to_static_checks(world, tmp_path):
    home, project, pids, environ = world
    write_user(home, {"good": tiny("ok")})
    result = results(home, project, environ, Policy(mcp_start=False))["user:good"]
    assert result.status is Status.OK and "--no-mcp-start" in result.summary
    assert not list(pids.glob("*.pid"))


def test_same_name_in_two_scopes_says_which_wins(world):
    home, project, pids, environ = world
    write_user(home, {"dup": tiny("exit")}, project, local={"dup": tiny("ok")})
    r = results(home, project, environ)
    assert r["local:dup"].status is Status.OK
    assert r["user:dup"].status is Status.SKIP and "local:dup has the same name and wins" in r["user:dup"].summary


def test_context_cost_warns_naming_the_largest(world):
    home, project, pids, environ = world
    write_user(home, {"big": tiny("ok", "60"), "small": tiny("ok", "1")})
    r = results(home, project, environ, Policy(mcp_timeout_s=5, mcp_context_warn_tokens=2000))
    assert r["context"].status is Status.WARN and "The largest: user:big" in r["context"].remediation


@pytest.mark.skipif(
    not shutil.which("mcp-server-time", path=os.path.dirname(PY)), reason="mcp-server-time is not installed"
)
def test_a_real_third_party_server(world):
    home, project, pids, environ = world
    write_user(home, {"time": {"command": shutil.which("mcp-server-time", path=os.path.dirname(PY)), "args": []}})
    result = results(home, project, environ, Policy(mcp_timeout_s=30))["user:time"]
    assert result.status is Status.OK and "mcp-time" in result.summary and "tool(s)" in result.summary


class McpHttp(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - the legacy SSE transport: an event stream that stays open
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        self.wfile.write(b"event: endpoint\ndata: /messages?session=1\n\n")
        self.wfile.flush()
        time.sleep(2)

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        if self.path == "/auth":
            self.send_response(401)
            self.send_header("www-authenticate", 'Bearer resource_metadata="http://127.0.0.1/.well-known"')
            self.send_header("content-length", "0")
            self.end_headers()
            return
        self.server.headers_seen.append(dict(self.headers))
        if body.get("method") == "notifications/initialized":
            self.send_response(202)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        if body.get("method") == "tools/list":
            if self.headers.get("mcp-session-id") != "session-42":  # the streamable HTTP rule: the id it gave
                self.send_response(400)
                self.send_header("content-length", "0")
                self.end_headers()
                return
            tools = [{"name": f"remote_{n}", "description": "A remote tool. " * 10, "inputSchema": {"type": "object"}}
                     for n in range(5)]  # fmt: skip
            event = json.dumps({"jsonrpc": "2.0", "id": body["id"], "result": {"tools": tools}})
            self.send_response(200)  # answered as an event stream, as streamable HTTP servers may
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            self.wfile.write(f"event: message\ndata: {event}\n\n".encode())
            self.wfile.flush()
            return
        data = json.dumps({"jsonrpc": "2.0", "id": body["id"], "result": {"protocolVersion": "2025-06-18",
                           "serverInfo": {"name": "http-tiny", "version": "1"}, "capabilities": {}}}).encode()  # fmt: skip
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("mcp-protocol-version", "2025-06-18")
        self.send_header("mcp-session-id", "session-42")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def http_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), McpHttp)
    server.headers_seen = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_http_servers(world, http_server):
    home, project, pids, environ = world
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    base = f"http://127.0.0.1:{http_server.server_address[1]}"
    write_user(home, {
        "remote": {"type": "http", "url": f"{base}/mcp", "headers": {"Authorization": "Bearer ${PREFLIGHT_HDR:-hdr-secret-value-1234}"}},
        "needs-login": {"type": "http", "url": f"{base}/auth"},
        "down": {"type": "http", "url": f"http://127.0.0.1:{closed}/mcp"},
        "legacy": {"type": "sse", "url": f"{base}/sse"},
    })  # fmt: skip
    r = results(home, project, environ)
    assert r["user:remote"].status is Status.OK and "initialize answered" in r["user:remote"].summary
    assert (
        http_server.headers_seen[-1]["Authorization"] == "Bearer hdr-secret-value-1234"
    )  # the expanded header was sent
    assert (
        r["user:needs-login"].status is Status.WARN
        and "needs authentication (HTTP 401)" in r["user:needs-login"].summary
    )
    assert r["user:down"].status is Status.FAIL and "connect failed" in r["user:down"].summary
    assert r["user:legacy"].status is Status.OK and "the event stream opened" in r["user:legacy"].summary
    # Streamable HTTP: after initialize, tools/list with the session id the server gave (answered as an event).
    assert "with 5 tool(s)" in r["user:remote"].summary and "http-tiny 1" in r["user:remote"].text()
    assert [h.get("mcp-session-id") for h in http_server.headers_seen[-2:]] == ["session-42", "session-42"]
    assert "user:remote: 5 tools" in r["context"].text()


def test_interrupted_run_leaves_no_server_behind(world, tmp_path):
    """Ctrl-C while a server is mid-handshake: pytest's unconfigure kills every server process group."""
    home, project, pids, environ = world
    write_user(home, {"silent": tiny("silent")})
    checks = Path(__file__).resolve().parent.parent / "checks"
    run = subprocess.Popen(
        [PY, "-m", "pytest", str(checks), "-p", "claude_preflight.plugin", "-p", "no:cacheprovider", "-q", "-k", "mcp",
         "--home", str(home), "--project", str(project), "-o", "mcp_timeout_s=60", "-o", f"reports_dir={tmp_path}/r"],
        cwd=tmp_path, env={**os.environ, **environ}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not list(pids.glob("*.pid")):
            assert time.monotonic() < deadline and run.poll() is None, "the server never started"
            time.sleep(0.05)
        server_pid = int(next(pids.glob("*.pid")).read_text())
        assert psutil.pid_exists(server_pid)
        run.send_signal(signal.SIGINT)
        run.wait(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    gone_by = time.monotonic() + 5
    while psutil.pid_exists(server_pid) and psutil.Process(server_pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < gone_by, "the MCP server outlived the interrupted run"
        time.sleep(0.05)
