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

from claude_preflight import catalogue
from claude_preflight.cli import main

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
    document = json.loads(out.read_text())
    assert {c["id"] for c in document["checks"]} == {info.id for info in catalogue.CATALOGUE}
    assert (hostile / "reports" / "claude-preflight.html").exists()  # default report folder: ./reports
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
