"""Env against real files and real processes: bounds, FIFOs, timeouts, process groups."""

from __future__ import annotations

import os
import time
from pathlib import Path

import psutil
import pytest

from claude_preflight.env import Env, NotRegularFile, TooLarge


@pytest.fixture
def env(tmp_path):
    return Env(home=tmp_path / "home", project=tmp_path / "project", environ={"PATH": os.environ["PATH"]})


def test_reading_a_fifo_returns_at_once_without_a_writer(env, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFile) as found:
        env.read_bytes(fifo, 100)
    assert "FIFO" in found.value.kind


def test_reads_stop_at_the_limit(env, tmp_path):
    big = tmp_path / "big"
    with open(big, "wb") as handle:
        handle.truncate(10_000_000)
    with pytest.raises(TooLarge) as found:
        env.read_bytes(big, 1000)
    assert found.value.size == 10_000_000
    assert env.read_bytes(big, 20_000_000)[:3] == b"\0\0\0"


def test_config_dir_follows_claude_config_dir(tmp_path):
    plain = Env(home=tmp_path, project=tmp_path, environ={})
    assert plain.config_dir == tmp_path / ".claude" and plain.user_state_file == tmp_path / ".claude.json"
    moved = Env(home=tmp_path, project=tmp_path, environ={"CLAUDE_CONFIG_DIR": "~/cfg"})
    assert moved.config_dir == tmp_path / "cfg" and moved.user_state_file == tmp_path / "cfg" / ".claude.json"


def test_run_timeout_kills_the_whole_process_group(env, tmp_path):
    marker = tmp_path / "grandchild.pid"
    script = f"sleep 60 & echo $! > {marker}; wait"
    result = env.run(["sh", "-c", script], timeout=0.5)
    assert result.timed_out
    grandchild = int(marker.read_text())
    deadline = time.monotonic() + 5
    while psutil.pid_exists(grandchild) and psutil.Process(grandchild).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the grandchild outlived the timeout"
        time.sleep(0.05)


def test_run_returns_output_and_code(env):
    result = env.run(["sh", "-c", "echo out; echo err >&2; exit 3"], timeout=10)
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")


def test_walk_is_bounded_and_does_not_follow_links(env, tmp_path):
    root = tmp_path / "tree"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "loop").symlink_to(root)
    for n in range(50):
        (root / f"f{n}").write_text("x")
    assert len(list(env.walk(root, limit=10))) == 10
    names = {p.name for p, _ in env.walk(root, limit=1000)}
    assert "loop" in names and len(names) == 53


def test_shown_uses_tilde_for_home(env):
    assert env.shown(env.home / ".claude.json") == "~/.claude.json"
    assert env.shown(Path("/etc/x")) == "/etc/x"


def test_a_simulation_runs_only_the_trees_stand_ins(tmp_path):
    """Under --sysroot, `dmesg` is the tree's stand-in or nothing: never this machine's own tool."""
    from claude_preflight.env import current_platform

    real = Env(home=tmp_path, project=tmp_path, environ={"PATH": os.environ["PATH"]})
    simulated = Env(home=tmp_path, project=tmp_path, sysroot=tmp_path / "mac", environ={"PATH": "/usr/bin:/bin"},
                    platform="darwin")  # fmt: skip
    assert real.platform == current_platform() and simulated.platform == "darwin"
    assert real.system_command("sh") and simulated.system_command("sh") is None
    stand_in = tmp_path / "mac" / "usr" / "sbin" / "sysctl"
    stand_in.parent.mkdir(parents=True)
    stand_in.write_text("#!/bin/sh\necho 'hw.memsize: 17179869184'\n")
    stand_in.chmod(0o755)
    assert simulated.system_command("sysctl") == str(stand_in)
    assert simulated.run([simulated.system_command("sysctl")], timeout=5).stdout == "hw.memsize: 17179869184\n"
