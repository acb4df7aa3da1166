"""Hooks and plugins against real things: the plugin files the real CLI wrote, a plugin's MCP server started by the
MCP family, and the real Claude Code (2.1.330 from npm) installing a plugin and refusing a prompt."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from caserunner import load_checks
from tool_call_api import ToolCallApi

from claude_preflight.checking import REGISTRY, run_targets
from claude_preflight.env import Env
from claude_preflight.outcome import Status
from claude_preflight.policy import Policy
from claude_preflight.probes import hooks, mcp, plugins

RECORDED = Path(__file__).parent / "fixtures" / "real-claude" / "plugins"
RECORDED_PREFIX = "/tmp/preflight-plugin-fixture"  # where the files were made; every path in them starts so
TINY = Path(__file__).parent / "mcp_servers" / "tiny.py"


RECORDED_GIT = Path(__file__).parent / "fixtures" / "real-claude" / "plugins-git"


def relocate(target: Path, recorded: Path = RECORDED, prefix: str = RECORDED_PREFIX) -> Path:
    """Copy the recorded home, project and marketplace to `target`, rewriting the absolute paths inside."""
    shutil.copytree(recorded, target, symlinks=True)
    for path in target.rglob("*.json"):
        path.write_text(path.read_text().replace(prefix, str(target)))
    (target / "project").mkdir(exist_ok=True)
    return target


def env_for(root: Path, **extra: str) -> Env:
    environ = {"PATH": os.environ["PATH"], "HOME": str(root / "home"), **extra}
    return Env(home=root / "home", project=root / "project", environ=environ)


def test_the_recorded_layout_reads_as_the_real_cli_listed_it(tmp_path):
    root = relocate(tmp_path / "r")
    found = {f.plugin.id: f for f in plugins.survey(env_for(root), 10**7)}
    listed = {p["id"]: p for p in json.loads((root / "claude-plugin-list.json").read_text())}
    assert set(found) == {"lint-guard@local-market", "notes@local-market"}
    for plugin_id, facts in found.items():
        assert facts.loads and not facts.problems and facts.plugin.enabled
        assert str(facts.root) == listed[plugin_id]["readFromFolder"]  # where `claude plugin list` read it from
        assert facts.plugin.scope == listed[plugin_id]["scope"]
    guard = found["lint-guard@local-market"]
    assert set(guard.mcp_servers) == set(listed["lint-guard@local-market"]["mcpServers"])
    assert guard.mcp_servers["lint-tools"]["args"] == [f"{root}/market/plugins/lint-guard/scripts/server.py"]
    assert found["notes@local-market"].plugin.project_path == root / "project"
    entries = hooks.hook_entries(env_for(root), 10**7)
    assert [(e.id, e.plugin, e.matcher) for e in entries] == [
        ("plugin:lint-guard:hooks.PreToolUse[0].hooks[0]", "lint-guard@local-market", "Bash")
    ]
    assert entries[0].command == f"python3 {root}/market/plugins/lint-guard/scripts/guard.py"


def test_a_git_marketplace_plugin_is_read_from_the_install_cache(tmp_path):
    root = relocate(tmp_path / "g", RECORDED_GIT, "/tmp/pfgit")
    [facts] = plugins.survey(env_for(root), 10**7)
    cache = root / "home" / ".claude" / "plugins" / "cache" / "local-market" / "lint-guard" / "1.0.0"
    assert facts.loads and facts.read_from == "install cache" and facts.root == cache
    assert facts.mcp_servers["lint-tools"]["args"] == [f"{cache}/scripts/server.py"]


def test_a_git_marketplace_without_its_clone_unloads_the_plugin(tmp_path):
    root = relocate(tmp_path / "g", RECORDED_GIT, "/tmp/pfgit")
    shutil.rmtree(root / "home" / ".claude" / "plugins" / "marketplaces")
    load_checks()
    [(_, result)] = run_targets(REGISTRY["plugins.installed"], env_for(root), Policy())
    assert result.status is Status.FAIL and "marketplaces/local-market is gone" in result.summary, result.text()
    assert [s.id for s in mcp.discover(env_for(root), 10**7)] == []


def test_a_missing_cache_is_copied_again_from_the_marketplace_clone(tmp_path):
    """2.1.332 restored a removed cache from the clone at start, offline: not a problem, and the clone is checked."""
    root = relocate(tmp_path / "g", RECORDED_GIT, "/tmp/pfgit")
    shutil.rmtree(root / "home" / ".claude" / "plugins" / "cache")
    load_checks()
    [(_, result)] = run_targets(REGISTRY["plugins.installed"], env_for(root), Policy())
    assert result.status is Status.OK and "the install cache is missing: Claude Code copies it again" in result.text()
    assert "marketplaces/local-market/plugins/lint-guard" in result.text()


def test_a_project_scope_plugin_of_another_project_does_not_apply(tmp_path):
    root = relocate(tmp_path / "r")
    other = Env(home=root / "home", project=tmp_path, environ={"PATH": os.environ["PATH"]})
    assert [p.id for p in plugins.installed(other, 10**7)] == ["lint-guard@local-market"]


def test_a_plugin_mcp_server_is_started_by_the_mcp_family(tmp_path):
    """The plugin's server joins mcp.server as plugin:<plugin>:<server>, is started, answers, and is stopped."""
    root = relocate(tmp_path / "r")
    scripts = root / "market" / "plugins" / "lint-guard" / "scripts"
    shutil.copy(TINY, scripts / "tiny.py")
    (scripts.parent / ".mcp.json").write_text(json.dumps(
        {"mcpServers": {"lint-tools": {"command": sys.executable, "args": ["${CLAUDE_PLUGIN_ROOT}/scripts/tiny.py", "ok", "2"]}}}
    ))  # fmt: skip
    pids = tmp_path / "pids"
    pids.mkdir()
    load_checks()
    targets = run_targets(REGISTRY["mcp.server"], env_for(root, TINY_PID_DIR=str(pids)), Policy(mcp_timeout_s=5))
    by_id = {t.id: r for t, r in targets}
    result = by_id["plugin:lint-guard:lint-tools"]
    assert result.status is Status.OK and "2 tool(s)" in result.summary, result.text()
    assert "from plugin lint-guard@local-market" in result.text()
    started = [int(p.read_text()) for p in pids.glob("*.pid")]
    assert len(started) == 1
    deadline = time.monotonic() + 5
    while psutil.pid_exists(started[0]) and time.monotonic() < deadline:
        if psutil.Process(started[0]).status() == psutil.STATUS_ZOMBIE:
            break
        time.sleep(0.05)
    assert not psutil.pid_exists(started[0]) or psutil.Process(started[0]).status() == psutil.STATUS_ZOMBIE


def test_plugin_variables_are_filled_in_as_the_real_cli_does(tmp_path):
    """2.1.332's `claude mcp list` showed ${CLAUDE_PLUGIN_DATA} as <config>/plugins/data/lint-guard-local-market and
    left an unset ${user_config.x} as it was."""
    root = relocate(tmp_path / "r")
    (root / "market" / "plugins" / "lint-guard" / ".mcp.json").write_text(json.dumps(
        {"mcpServers": {"lint-tools": {"command": "python3",
                                       "args": ["${CLAUDE_PLUGIN_ROOT}/s.py", "${CLAUDE_PLUGIN_DATA}", "${user_config.x}"]}}}
    ))  # fmt: skip
    [server] = [s for s in mcp.discover(env_for(root), 10**7) if s.scope == "plugin:lint-guard"]
    data = root / "home" / ".claude" / "plugins" / "data" / "lint-guard-local-market"
    assert server.config["args"] == [f"{root}/market/plugins/lint-guard/s.py", str(data), "${user_config.x}"]
    assert mcp.shape(server, {}).missing_vars == ()
    assert not data.exists()  # Claude Code creates it; a check never does


def test_a_broken_plugin_brings_no_mcp_server(tmp_path):
    root = relocate(tmp_path / "r")
    (root / "market" / "plugins" / "lint-guard" / ".claude-plugin" / "plugin.json").write_text('{"name": ,}')
    assert [s.id for s in mcp.discover(env_for(root), 10**7) if s.scope.startswith("plugin:")] == []


def _claude_env(real_claude: Path, home: Path) -> dict:
    with socket.socket() as s:  # a port nobody listens on: Claude Code must not reach any API
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return {"PATH": f"{real_claude.parent}:{os.environ['PATH']}", "HOME": str(home),
            "ANTHROPIC_API_KEY": "sk-ant-api03-preflighttest-ok", "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}",
            "CLAUDE_CODE_MAX_RETRIES": "0", "API_TIMEOUT_MS": "3000", "DISABLE_AUTOUPDATER": "1"}  # fmt: skip


def test_the_real_cli_installs_a_plugin_the_way_the_probe_reads_it(real_claude, tmp_path):
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir(), project.mkdir()
    shutil.copytree(RECORDED / "market", tmp_path / "market")
    environ = _claude_env(real_claude, home)
    for argv in (
        ["plugin", "marketplace", "add", str(tmp_path / "market")],
        ["plugin", "install", "lint-guard@local-market"],
    ):
        done = subprocess.run(
            [str(real_claude), *argv], cwd=project, env=environ, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
    env = Env(home=home, project=project, environ=environ)
    [facts] = plugins.survey(env, 10**7)
    assert facts.loads and facts.root == tmp_path / "market" / "plugins" / "lint-guard"
    assert facts.plugin.install_path == home / ".claude" / "plugins" / "cache" / "local-market" / "lint-guard" / "1.0.0"
    assert [s.id for s in mcp.discover(env, 10**7)] == ["plugin:lint-guard:lint-tools"]
    assert [e.id for e in hooks.hook_entries(env, 10**7)] == ["plugin:lint-guard:hooks.PreToolUse[0].hooks[0]"]


def test_the_real_cli_refuses_every_prompt_when_a_user_prompt_hook_script_is_missing(real_claude, tmp_path):
    """A missing script under python3 exits 2: Claude Code blocks the prompt; the folder was never trusted, and
    `claude -p` ran the project's hook anyway. hooks.command fails it."""
    home, project = tmp_path / "home", tmp_path / "project"
    (project / ".claude").mkdir(parents=True), home.mkdir()
    missing = project / ".claude" / "hooks" / "prompt_guard.py"
    settings = {"hooks": {"UserPromptSubmit": [{"hooks": [{"type": "command", "command": f"python3 {missing}"}]}]}}
    (project / ".claude" / "settings.json").write_text(json.dumps(settings))
    environ = _claude_env(real_claude, home)
    done = subprocess.run(
        [str(real_claude), "-p", "hello"], cwd=project, env=environ, capture_output=True, text=True, timeout=120
    )
    assert "UserPromptSubmit operation blocked by hook" in done.stdout + done.stderr, done.stdout + done.stderr
    assert "can't open file" in done.stdout + done.stderr
    load_checks()
    [(target, result)] = run_targets(
        REGISTRY["hooks.command"], Env(home=home, project=project, environ=environ), Policy()
    )
    assert target.trusted is False
    assert result.status is Status.FAIL and f"Create {missing}" in result.remediation, result.text()


@pytest.mark.parametrize(
    ("hook", "blocked", "status"),
    [
        ("python3 {home}/.claude/hooks/guard.py", True, Status.FAIL),  # python3 exits 2: "deny"
        ("preflight-no-such-guard", False, Status.WARN),  # 127: "hook error", the tool still runs
        ("node {home}/.claude/hooks/guard.js", False, Status.WARN),  # node exits 1: the same
    ],
)
def test_the_real_cli_blocks_tools_only_when_the_broken_hook_exits_2(real_claude, tmp_path, hook, blocked, status):
    """The real Claude Code asks a stand-in API on 127.0.0.1 for one Bash call (`touch marker.txt`) with a
    PreToolUse hook that cannot start; the check's verdict matches what the CLI did with the call."""
    home, project = tmp_path / "home", tmp_path / "project"
    (home / ".claude").mkdir(parents=True), project.mkdir()
    command = hook.format(home=home)
    settings = {"permissions": {"allow": ["Bash(touch:*)"]},
                "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": command}]}]}}  # fmt: skip
    (home / ".claude" / "settings.json").write_text(json.dumps(settings))
    api = ToolCallApi("touch marker.txt")
    try:
        environ = {**_claude_env(real_claude, home), "ANTHROPIC_BASE_URL": api.url}
        argv = [str(real_claude), "-p", "run it", "--output-format", "stream-json", "--verbose"]
        done = subprocess.run(argv, cwd=project, env=environ, capture_output=True, text=True, timeout=120)
    finally:
        api.stop()
    results = [json.loads(line) for line in done.stdout.splitlines() if '"tool_result"' in line]
    assert results, done.stdout + done.stderr
    tool_result = results[0]["message"]["content"][0]
    assert (project / "marker.txt").exists() is not blocked, tool_result
    if blocked:
        assert tool_result["is_error"] and "PreToolUse:Bash hook error" in str(tool_result["content"])
    load_checks()
    [(_, result)] = run_targets(REGISTRY["hooks.command"], Env(home=home, project=project, environ=environ), Policy())
    assert result.status is status, result.text()


def test_a_full_run_never_runs_a_hook_or_status_line_and_writes_nothing(pytester, tmp_path):
    """Hooks and status lines that would leave a marker if anything ran them; the plugin's files stay untouched."""
    from test_plugin import run_suite
    from test_readonly import snapshot

    root = relocate(tmp_path / "r")
    marker = tmp_path / "ran"
    touch = f"touch {marker}"
    settings = json.loads((root / "home" / ".claude" / "settings.json").read_text())
    settings["hooks"] = {
        event: [{"hooks": [{"type": "command", "command": touch}]}] for event in ("PreToolUse", "SessionStart", "Stop")
    }
    settings["statusLine"] = {"type": "command", "command": touch}
    (root / "home" / ".claude" / "settings.json").write_text(json.dumps(settings))
    hooks_file = root / "market" / "plugins" / "lint-guard" / "hooks" / "hooks.json"
    hooks_file.write_text(json.dumps({"hooks": {"PreToolUse": [{"hooks": [{"type": "command", "command": touch}]}]}}))
    before = snapshot(root)
    result = run_suite(pytester, root / "home", root / "project", "-k", "hooks or plugins")
    assert result.ret == 0, result.stdout.str()
    # 3 user hooks, 1 plugin hook, the status line, 2 plugins
    result.stdout.fnmatch_lines(["*claude-preflight: all clear: 7 ok*"])
    assert not marker.exists()
    assert snapshot(root) == before
