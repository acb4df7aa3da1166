"""The console command: --list, and the installed wheel run from a hostile directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import homes
import pytest

import claude_preflight
from claude_preflight import catalogue
from claude_preflight.cli import main, validate

ROOT = Path(__file__).resolve().parent.parent
THRESHOLDS = [
    "-o",
    "disk_fail_gib=0",
    "-o",
    "disk_warn_gib=0",
    "-o",
    "disk_warn_inodes_percent=0",
    "--offline",
    "--no-mcp-start",
]
FAKE_KEY = "sk-ant-api03-wheeltestwheeltest-W7h3"  # well formed; --offline keeps it from being sent


def test_list_prints_every_check_with_title_and_cause(capsys):
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    for info in catalogue.CATALOGUE:
        assert info.id in out and info.title in out and info.cause in out


def test_list_honours_k(capsys):
    assert main(["--list", "-k", "memory"]) == 0
    ids = {line.split()[0] for line in capsys.readouterr().out.splitlines() if not line.startswith(" ")}
    # as pytest's -k: a substring of the id, family, module or function (context.memory-files matches too)
    assert ids == {i.id for i in catalogue.CATALOGUE if "memory" in i.id}
    assert main(["--list", "-k", "network.api-key or disk.space"]) == 0
    ids = {line.split()[0] for line in capsys.readouterr().out.splitlines() if not line.startswith(" ")}
    assert ids == {"network.api-key", "disk.space"}
    assert main(["--list", "-k", "config and not corrupt"]) == 0
    out = capsys.readouterr().out
    assert "config.file" in out and "config.corrupt-backups" not in out


def test_short_help_lists_commands_and_our_options(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for word in ("diagnose", "merge", "--list", "--home", "--fix", "--strict", "--help-pytest", "-o NAME=VALUE"):
        assert word in out
    assert len(out.splitlines()) < 60 and "--basetemp" not in out  # pytest's own options: --help-pytest
    assert main(["help"]) == 0 and "diagnose" in capsys.readouterr().out


def test_help_pytest_shows_pytest_options_under_our_name(capsys):
    assert main(["--help-pytest"]) == 0
    out = capsys.readouterr().out
    assert "--basetemp" in out and "usage: claude-preflight" in out and "pytest.main()" not in out


def test_version_names_us_pytest_and_the_claude_code_it_sees(capsys, monkeypatch, tmp_path):
    stand_in = tmp_path / "bin"
    stand_in.mkdir()
    (stand_in / "claude").write_text('#!/bin/sh\nprintf "2.1.330 (Claude Code)\\n"\n')
    (stand_in / "claude").chmod(0o755)
    monkeypatch.setenv("PATH", f"{stand_in}:/usr/bin:/bin")
    assert main(["--version", "--home", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"claude-preflight {claude_preflight.__version__}"
    assert out[1] == f"pytest {pytest.__version__}"
    assert out[2].startswith("Claude Code 2.1.330 (") and str(stand_in / "claude") in out[2]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["diagnoes", "x.log"], "unknown command 'diagnoes'; did you mean diagnose?"),
        (["mrege"], "did you mean merge?"),
        (["."], "takes no paths"),
        (["--offline", "checks/"], "takes no paths"),
        (["--ofline"], "unknown option --ofline; did you mean --offline?"),
        (["-o", "disk_warn_gib=abc"], "-o disk_warn_gib=abc: not a number"),
        (["-o", "disk_wran_gib=500"], "not a claude-preflight threshold; did you mean disk_warn_gib?"),
        (["-o", "disk_warn_gib=-1"], "0 or more"),
        (["-o", "disk_warn_gib=nan"], "finite"),
        (["-o", "latency_samples=2.5"], "whole number"),
        (["-o", "disk_warn_gib"], "expected NAME=VALUE"),
        (["--list", "-k", "memory and"], "-k 'memory and'"),
    ],
)
def test_usage_errors_exit_two_with_a_clear_message(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("claude-preflight: error: ") and message in err, err
    assert "Traceback" not in err and "INTERNALERROR" not in err


def test_a_bad_value_of_a_pytest_option_is_a_usage_error_too(capsys):
    assert main(["--tb=bogus", "--offline"]) == 2
    err = capsys.readouterr().err
    assert "claude-preflight: error: argument --tb: invalid choice" in err and "pytest.main()" not in err


def test_pytest_options_pass_through_and_their_values_are_not_paths():
    known = validate(["--tb", "short", "-rA", "--maxfail=2", "-k", "config", "-o", "junit_family=xunit1", "-v"])
    assert known.keyword == "config" and known.verbose == 1


def run_module(*args: str, **kwargs) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")} | {"PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "claude_preflight", *args], env=env, **kwargs)


def test_python_dash_m_runs_the_command():
    process = run_module("--list", "-k", "disk", stdout=subprocess.PIPE, text=True)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 0 and out.startswith("disk.space")


def test_help_into_a_closed_pipe_ends_without_a_traceback():
    """`claude-preflight --help | head`: the reader is gone before we write (its end closed before we print)."""
    read, write = os.pipe()
    process = run_module("--help", stdout=write, stderr=subprocess.PIPE)
    os.close(write)
    os.close(read)
    _, err = process.communicate(timeout=60)
    assert b"BrokenPipe" not in err and b"Traceback" not in err, err
    assert process.returncode == 141


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The project built as a wheel and installed into a fresh virtualenv: its bin directory."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(ROOT)],
        check=True, timeout=300,
    )  # fmt: skip
    wheel = next((work / "dist").glob("claude_preflight-*.whl"))
    venv.create(work / "venv", with_pip=True)
    bin_dir = work / "venv" / "bin"
    subprocess.run([bin_dir / "pip", "install", "-q", str(wheel)], check=True, timeout=600)
    return bin_dir


@pytest.fixture
def hostile(tmp_path) -> Path:
    """A directory whose pytest.ini and conftest.py would wreck any pytest run that read them."""
    directory = tmp_path / "hostile"
    directory.mkdir()
    (directory / "pytest.ini").write_text("[pytest]\naddopts = --no-such-option -x\ntestpaths = nowhere\n")
    (directory / "conftest.py").write_text("raise RuntimeError('hostile conftest.py was loaded')\n")
    (directory / "test_hostile.py").write_text("def test_hostile():\n    assert False, 'hostile test ran'\n")
    return directory


def run_installed(bin_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "ANTHROPIC_", "CLAUDE_"))}
    env["ANTHROPIC_API_KEY"] = FAKE_KEY
    stand_in = cwd / "stand-in-bin"  # a `claude` for the installation family (the real one: test_real_claude.py)
    stand_in.mkdir(exist_ok=True)
    (stand_in / "claude").write_text('#!/bin/sh\nprintf "2.1.330 (Claude Code)\\n"\n')
    (stand_in / "claude").chmod(0o755)
    env["PATH"] = f"{stand_in}:{env['PATH']}"
    env["NPM_CONFIG_PREFIX"] = str(cwd / "no-npm-prefix")
    env["XDG_CACHE_HOME"] = str(cwd.parent / "cache")
    return subprocess.run(
        [bin_dir / "claude-preflight", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_installed_command_ignores_the_current_directory(installed, hostile, tmp_path):
    home, project = homes.build(tmp_path / "user")
    out = tmp_path / "out.json"
    run = run_installed(
        installed, hostile, "--home", str(home), "--project", str(project), "--json", str(out), *THRESHOLDS
    )
    assert run.returncode == 0, run.stdout + run.stderr
    for planted in ("hostile conftest.py was loaded", "hostile test ran", "no-such-option", "test_hostile", FAKE_KEY):
        assert planted not in run.stdout + run.stderr
    assert "site-packages" not in run.stdout  # progress lines read test_config.py, not the installed path
    assert "test_config.py " in run.stdout
    document = json.loads(out.read_text())
    assert {c["id"] for c in document["checks"]} == {info.id for info in catalogue.CATALOGUE}
    # Installed, the default report folder is the user cache: the directory it was started in is never written.
    cache = hostile.parent / "cache" / "claude-preflight" / "reports"
    assert (cache / "claude-preflight.html").exists() and not (hostile / "reports").exists()
    assert f"HTML report: {cache / 'claude-preflight.html'}" in run.stdout
    site = next((installed.parent / "lib").glob("python*/site-packages"))
    assert not list(site.rglob(".pytest_cache")), "the run wrote a cache into site-packages"


@pytest.mark.slow
def test_installed_command_fails_on_a_damaged_home_and_lists(installed, hostile, tmp_path):
    home, project = homes.build(tmp_path / "user", damaged=True)
    run = run_installed(installed, hostile, "--home", str(home), "--project", str(project), *THRESHOLDS)
    assert run.returncode == 1
    assert "FAIL config.file[user-settings]" in run.stdout
    if not os.path.exists("/proc/15510"):  # the registry entry's pid: dead here unless reused by chance
        assert "WARN memory.killed-sessions" in run.stdout and "claude --resume 6ba75405" in run.stdout
    listing = run_installed(installed, hostile, "--list")
    assert listing.returncode == 0 and "disk.space" in listing.stdout


def test_sigterm_mid_run_writes_the_reports_with_what_finished(tmp_path):
    """A CI job cancelled while an MCP server never answers: SIGTERM ends the run as Ctrl-C does (exit 2), and the
    JSON report holds the checks that finished before it."""
    import signal
    import time

    home, project = homes.build(tmp_path / "user")
    state = json.loads((home / ".claude.json").read_text())
    state["mcpServers"] = {
        "silent": {"type": "stdio", "command": sys.executable, "args": ["-c", "import time; time.sleep(120)"]}
    }
    (home / ".claude.json").write_text(json.dumps(state))
    out = tmp_path / "out.json"
    process = run_module(
        "--home", str(home), "--project", str(project), "--offline", "-k", "config or mcp.server",
        "-o", "mcp_timeout_s=60", "-o", "check_timeout_s=90", "--json", str(out), "--html", str(tmp_path / "r.html"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    seen = ""
    while "test_mcp.py" not in seen:  # the config checks are done and the MCP handshake is waiting
        char = process.stdout.read(1)  # the progress line has no newline until its file is done
        assert char, seen
        seen += char
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=30)  # a hang guard, not a timing assertion (bench/ measures)
    assert process.returncode == 2, seen + rest
    assert rest.rstrip().splitlines()[-1].count("claude-preflight: interrupted, so incomplete")
    document = json.loads(out.read_text())
    assert {c["id"] for c in document["checks"]} >= {"config.file"}
    assert not [c for c in document["checks"] if "silent" in (c["target"] or "")]  # still waiting when stopped
    assert (tmp_path / "r.html").exists()


def test_default_report_folder_installed_is_the_user_cache(monkeypatch, tmp_path):
    from claude_preflight import cli

    assert cli.default_reports_dir() == ROOT / "reports"  # these self-tests run from the clone
    monkeypatch.setattr(cli, "from_clone", lambda: None)
    assert cli.default_reports_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "claude-preflight" / "reports"
    assert cli.default_reports_dir({"XDG_CACHE_HOME": "relative/ignored"}) == (
        Path.home() / ".cache" / "claude-preflight" / "reports"
    )
    assert cli.default_reports_dir({}) == Path.home() / ".cache" / "claude-preflight" / "reports"
