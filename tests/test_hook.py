"""`claude-preflight hook` (SessionStart) and `install-hook`, down to the real Claude Code against a fake API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import homes
import pytest
import servers

from claude_preflight import hook

CALM = ["-o", "disk_warn_gib=0", "-o", "disk_fail_gib=0", "-o", "disk_warn_inodes_percent=0"]  # any CI disk


def run_hook(stdin: str, *args: str, home: Path, cwd: Path, extra_env: dict | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "ANTHROPIC_", "CLAUDE_"))}
    env |= {"HOME": str(home)} | (extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "claude_preflight", "hook", *CALM, *args],
        input=stdin, cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def tree(*roots: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p): (p.stat().st_size, p.stat().st_mtime_ns)
        for root in roots
        for p in sorted(root.rglob("*"))
        if p.exists()
    }


def test_unhealthy_home_gives_one_line_per_warn_and_fail_and_writes_nothing(tmp_path):
    home, project = homes.build(tmp_path / "d", damaged=True)
    (project / ".mcp.json").write_text('{"mcpServers": {')  # found only through the hook input's cwd
    before = tree(home, project)
    stdin = json.dumps(
        {"session_id": "s1", "cwd": str(project), "hook_event_name": "SessionStart", "source": "startup"}
    )
    done = run_hook(stdin, home=home, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["hookSpecificOutput"]["hookEventName"] == "SessionStart"
    context = answer["hookSpecificOutput"]["additionalContext"].splitlines()
    assert any(line.startswith("FAIL config.file[user-settings]: user settings is not valid JSON") for line in context)
    statuses = [line.split()[0] for line in context[1:]]
    assert statuses == sorted(statuses)  # fails first
    assert "WARN config.corrupt-backups: 1 corrupted copy of .claude.json found" in context
    assert any(line.startswith("FAIL config.file[project-mcp]:") for line in context)  # cwd: the project
    assert all(line.startswith(("FAIL ", "WARN ")) for line in context[1:])
    assert tree(home, project) == before and sorted(tmp_path.iterdir()) == [tmp_path / "d"]


def test_healthy_home_prints_nothing(tmp_path):
    home, project = homes.build(tmp_path / "h")
    done = run_hook(json.dumps({"cwd": str(project)}), home=home, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, ""), done.stderr


def test_claude_project_dir_wins_over_cwd(tmp_path):
    home, project = homes.build(tmp_path / "h")
    other = tmp_path / "other"
    other.mkdir()
    (other / ".mcp.json").write_text('{"mcpServers": {')
    done = run_hook(
        json.dumps({"cwd": str(project)}), home=home, cwd=tmp_path, extra_env={"CLAUDE_PROJECT_DIR": str(other)}
    )
    assert "FAIL config.file[project-mcp]" in json.loads(done.stdout)["hookSpecificOutput"]["additionalContext"]


@pytest.mark.parametrize("stdin", ["", "not json", "[1, 2]", '{"cwd": 7}', "[" * 100_000])
def test_any_input_and_any_mistake_still_exit_zero(tmp_path, stdin):
    home, project = homes.build(tmp_path / "h")
    assert run_hook(stdin, "--project", str(project), home=home, cwd=tmp_path).returncode == 0
    assert run_hook(stdin, "--no-such-option", home=home, cwd=tmp_path).returncode == 0
    assert run_hook(stdin, "-o", "disk_wran_gib=3", home=home, cwd=tmp_path).returncode == 0


def test_hook_never_imports_pytest_or_starts_a_server(tmp_path):
    home, project = homes.build(tmp_path / "d", damaged=True)
    marker = tmp_path / "started"
    state = json.loads((home / ".claude.json").read_text())
    state["mcpServers"] = {"marker": {"type": "stdio", "command": "/bin/sh", "args": ["-c", f"touch {marker}"]}}
    (home / ".claude.json").write_text(json.dumps(state))
    code = (
        "import sys; from pathlib import Path; from claude_preflight import hook; "
        f"lines = hook.findings(Path({str(home)!r}), Path({str(project)!r}), {{}}); "
        "print(len(lines), 'pytest' in sys.modules, '_pytest' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    count, pytest_loaded, inner_loaded = done.stdout.split()
    assert int(count) > 0 and pytest_loaded == inner_loaded == "False", done.stderr
    assert not marker.exists()


# -- install-hook ----------------------------------------------------------------------------------
def install(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "CLAUDE_"))} | {"HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "claude_preflight", "install-hook", "--command", "claude-preflight hook", *args],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_install_hook_keeps_settings_backs_up_shows_the_diff_and_is_idempotent(tmp_path):
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True)
    original = (
        '{\n  "model": "sonnet",\n  "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "true"}]}]}\n}\n'
    )
    settings.write_text(original)
    settings.chmod(0o640)
    done = install(tmp_path)
    assert done.returncode == 0, done.stderr
    assert any(line.startswith("+") and '"SessionStart"' in line for line in done.stdout.splitlines())
    assert "backup: " in done.stdout
    written = json.loads(settings.read_text())
    assert written["model"] == "sonnet" and written["hooks"]["Stop"]
    assert written["hooks"]["SessionStart"] == [hook.hook_entry("claude-preflight hook")]
    assert settings.stat().st_mode & 0o777 == 0o640
    [backup] = settings.parent.glob("settings.json.preflight-backup-*")
    assert backup.read_text() == original
    again = install(tmp_path)
    assert again.returncode == 0 and "already there; nothing changed" in again.stdout
    assert len(list(settings.parent.glob("settings.json.preflight-backup-*"))) == 1
    assert not list(settings.parent.glob("*.preflight-tmp"))


def test_install_hook_creates_settings_and_refuses_a_broken_file(tmp_path):
    done = install(tmp_path, "--dry-run")
    assert done.returncode == 0 and "nothing written" in done.stdout
    assert not (tmp_path / ".claude" / "settings.json").exists()
    assert install(tmp_path).returncode == 0
    assert json.loads((tmp_path / ".claude" / "settings.json").read_text())["hooks"]["SessionStart"]
    broken = tmp_path / "b"
    (broken / ".claude").mkdir(parents=True)
    (broken / ".claude" / "settings.json").write_text('{"hooks": [],}')
    refused = install(broken)
    assert refused.returncode == 1 and "nothing changed" in refused.stderr
    assert (broken / ".claude" / "settings.json").read_text() == '{"hooks": [],}'


# -- the real Claude Code ----------------------------------------------------------------------------
MARKER = "claude-preflight found problems"


def claude_session(claude: Path, home: Path, project: Path) -> list[str]:
    """`claude -p` with the hook installed, against the fake API on 127.0.0.1: the request bodies it sent."""
    command = " ".join([sys.executable, "-m", "claude_preflight", "hook", *CALM])
    (home / ".claude").mkdir(parents=True, exist_ok=True)
    (home / ".claude" / "settings.json").write_text(json.dumps({"hooks": {"SessionStart": [hook.hook_entry(command)]}}))
    (home / ".claude.json").write_text('{"hasCompletedOnboarding": true}')
    api = servers.ApiServer(None)
    try:
        env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{api.port}",
               "ANTHROPIC_API_KEY": servers.KEY_PREFIX + "ok", "DISABLE_AUTOUPDATER": "1",
               "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}  # fmt: skip
        subprocess.run(
            [claude, "-p", "hello", "--max-turns", "1"], cwd=project, env=env, capture_output=True, timeout=180
        )  # fmt: skip  (exit 1: the fake API's stream is minimal; the request is what counts)
    finally:
        api.stop()
    assert api.posted, "Claude Code sent no request to the fake API"
    return [json.dumps(body) for body in api.posted]


def test_real_claude_carries_our_context_for_an_unhealthy_project_only(real_claude, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / ".mcp.json").write_text('{"mcpServers": {')  # Claude Code loads no project server from it
    unhealthy = claude_session(real_claude, tmp_path / "home1", project)
    assert any(MARKER in body and "FAIL config.file[project-mcp]" in body for body in unhealthy)
    (project / ".mcp.json").unlink()
    healthy = claude_session(real_claude, tmp_path / "home2", project)
    assert not any(MARKER in body or "config.file[" in body for body in healthy)


def test_a_broken_hook_of_the_user_is_reported_at_session_start(tmp_path):
    home, project = homes.build(tmp_path / "h")
    settings = json.loads((home / ".claude" / "settings.json").read_text())
    settings["hooks"] = {
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "/nonexistent/guard.sh"}]}]
    }
    (home / ".claude" / "settings.json").write_text(json.dumps(settings))
    done = run_hook(json.dumps({"cwd": str(project)}), home=home, cwd=tmp_path)
    context = json.loads(done.stdout)["hookSpecificOutput"]["additionalContext"]
    assert "hooks.command[" in context and "/nonexistent/guard.sh" in context
