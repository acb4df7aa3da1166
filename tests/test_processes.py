"""Leftover Claude Code processes and killed sessions, with real processes (no process table is faked)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from claude_preflight.env import Env
from claude_preflight.outcome import Status
from claude_preflight.policy import Policy
from claude_preflight.probes import memory, processes, sessions
from claude_preflight.rules.memory import evaluate_killed_sessions, evaluate_processes

SCRIPT = """#!/bin/sh
# Stands in for a Claude Code session: its child stands in for an MCP server.
echo $$ > "$0.$1.pid"
sleep 300 &
wait
"""


def wait_for(predicate, what: str, seconds: float = 10):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def lab():
    """A world-readable temp dir, a fake home, and cleanup of every process started, also on failure."""
    root = Path(tempfile.mkdtemp(prefix="preflight-procs-"))
    root.chmod(0o755)
    started: list[int] = []

    def spawn(argv, user=None, **kwargs) -> subprocess.Popen:
        def drop():
            if user is not None:
                os.setgid(user)
                os.setuid(user)

        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=drop, **kwargs)  # fmt: skip
        started.append(proc.pid)
        return proc

    bin_dir = root / "bin"
    bin_dir.mkdir()
    (bin_dir / "claude").write_text(SCRIPT)
    (bin_dir / "claude").chmod(0o755)
    env = Env(home=root / "home", project=root, environ={"PATH": os.environ["PATH"]})
    yield env, bin_dir, spawn, started
    for pid in started:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for pidfile in bin_dir.glob("claude.*.pid"):  # the orphan left its own group behind its parent
        try:
            os.killpg(int(pidfile.read_text()), signal.SIGKILL)
        except (ProcessLookupError, PermissionError, ValueError):
            pass
    shutil.rmtree(root, ignore_errors=True)


def found_by_pid(env: Env) -> dict[int, processes.ClaudeProcess]:
    return {p.pid: p for p in processes.claude_processes(env)}


def test_sessions_are_found_with_age_rss_children_and_orphan_status(lab):
    env, bin_dir, spawn, started = lab
    attached = spawn([bin_dir / "claude", "attached"])
    # Double fork: the intermediate shell exits, so the session's parent becomes init.
    spawn(["sh", "-c", f"'{bin_dir / 'claude'}' orphan --output-format stream-json &"])
    pidfile = bin_dir / "claude.orphan.pid"
    wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), "the orphan to start")
    orphan_pid = int(pidfile.read_text())
    wait_for(lambda: psutil.Process(orphan_pid).children(), "the orphan's child")
    wait_for(lambda: psutil.Process(attached.pid).children(), "the attached session's child")

    found = found_by_pid(env)
    assert attached.pid in found and orphan_pid in found
    session, orphan = found[attached.pid], found[orphan_pid]
    assert not session.orphaned and session.ppid == os.getpid() and session.tty is None
    assert orphan.orphaned and orphan.stream_json and not session.stream_json
    real = psutil.Process(attached.pid)
    assert session.rss == pytest.approx(real.memory_info().rss, rel=0.5) and session.rss > 0
    assert 0 <= session.age_s < 120 and abs(session.age_s - (time.time() - real.create_time())) < 5
    assert [name for _, name, _ in session.children] == ["sleep"]
    assert session.user == psutil.Process().username() and session.uid == os.getuid()


def test_rules_on_real_processes_list_pids_and_kill_commands_and_kill_nothing(lab):
    env, bin_dir, spawn, started = lab
    spawn(["sh", "-c", f"'{bin_dir / 'claude'}' orphan2 &"])
    pidfile = bin_dir / "claude.orphan2.pid"
    wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), "the orphan to start")
    orphan_pid = int(pidfile.read_text())
    others = [spawn([bin_dir / "claude", f"s{n}"]) for n in range(3)]
    wait_for(lambda: all(psutil.Process(p.pid).children() for p in others), "the sessions' children")
    mine = [p for p in processes.claude_processes(env) if p.uid == os.getuid()]
    assert len(mine) >= 4
    mem = memory.meminfo(env)

    result = evaluate_processes(mine, os.getuid(), mem, Policy(claude_orphan_warn_hours=0))
    assert result.status is Status.WARN
    assert f"kill {orphan_pid}" in result.remediation and "over 3" in result.summary
    assert "orphaned session(s) older than 0 h" in result.summary
    assert any(f"pid {orphan_pid} " in line and "orphaned" in line for line in result.evidence)

    failing = evaluate_processes(mine, os.getuid(), mem, Policy(claude_rss_fail_percent=0.0001))
    assert failing.status is Status.FAIL and "of RAM" in failing.summary

    calm = evaluate_processes(mine, os.getuid(), mem, Policy(claude_process_warn_count=100))
    assert calm.status is Status.OK
    assert psutil.pid_exists(orphan_pid) and all(p.poll() is None for p in others)  # nothing was killed


@pytest.mark.skipif(os.geteuid() != 0, reason="starting a process as another user needs root (CI runs as root)")
def test_other_users_processes_are_reported_not_counted(lab):
    env, bin_dir, spawn, started = lab
    theirs = spawn([bin_dir / "claude", "theirs"], user=65534)
    wait_for(lambda: theirs.pid in found_by_pid(env), "the other user's session")
    procs = processes.claude_processes(env)
    assert found_by_pid(env)[theirs.pid].uid == 65534
    result = evaluate_processes(procs, os.getuid(), memory.meminfo(env), Policy(claude_process_warn_count=0))
    assert any(line.startswith(f"other user: pid {theirs.pid} ") for line in result.evidence)
    assert f"kill {theirs.pid}" not in result.remediation


@pytest.mark.skipif(not shutil.which("node"), reason="node is not installed")
def test_node_running_cli_js_and_native_versions_are_found(lab):
    env, bin_dir, spawn, started = lab
    cli = env.home / "npm" / "lib" / "node_modules" / "@anthropic-ai" / "claude-code" / "cli.js"
    cli.parent.mkdir(parents=True)
    cli.write_text("setInterval(() => {}, 1000);\n")
    node = spawn([shutil.which("node"), str(cli)])
    native = env.home / ".local" / "share" / "claude" / "versions" / "2.1.224"
    native.parent.mkdir(parents=True)
    shutil.copy(shutil.which("sleep"), native)
    version_named = spawn([str(native), "300"])
    wait_for(lambda: {node.pid, version_named.pid} <= set(found_by_pid(env)), "node and the native build")
    found = found_by_pid(env)
    assert "cli.js" in found[node.pid].how
    assert "versions" in found[version_named.pid].how


def test_a_killed_session_is_found_through_the_real_proc(lab, tmp_path):
    env, bin_dir, spawn, started = lab
    session = spawn([bin_dir / "claude", "registered"])
    registry = env.config_dir / "sessions"
    registry.mkdir(parents=True)
    start = sessions.process_start(env, session.pid)
    assert start and start.isdigit()
    (registry / f"{session.pid}.json").write_text(
        f'{{"pid": {session.pid}, "sessionId": "11111111-2222-3333-4444-555555555555", "cwd": "/src/p", '
        f'"startedAt": 1795335542489, "procStart": "{start}"}}'
    )
    entries = sessions.registry(env)
    assert [e.alive for e in entries] == [True]
    assert evaluate_killed_sessions([e for e in entries if not e.alive], [], set()).status is Status.OK

    os.killpg(session.pid, signal.SIGKILL)  # what the OOM killer does
    session.wait()
    entries = sessions.registry(env)
    assert [e.alive for e in entries] == [False]
    result = evaluate_killed_sessions(entries, [], set())
    assert result.status is Status.WARN
    assert "claude --resume 11111111-2222-3333-4444-555555555555" in result.remediation


def test_a_simulated_machine_never_shows_this_machines_processes(lab, tmp_path):
    """Under --sysroot the process table is the tree's /proc: the real sessions started here must not leak in."""
    env, bin_dir, spawn, started = lab
    session = spawn([str(bin_dir / "claude"), "attached"])
    wait_for(lambda: session.pid in found_by_pid(env), "the real session to show up")
    (tmp_path / "proc").mkdir()
    simulated = Env(home=env.home, project=env.project, sysroot=tmp_path, environ=env.environ)
    assert processes.claude_processes(simulated) == []
    assert simulated.process_table() == {} and not simulated.pid_exists(session.pid)


def test_node_is_asked_its_version_only_when_something_here_runs_on_node(tmp_path):
    """A stand-in `node` leaves a mark when it runs: a native build with no npx/node MCP server never starts it."""
    from claude_preflight.probes import install

    bin_dir, mark = tmp_path / "bin", tmp_path / "node-ran"
    bin_dir.mkdir()
    node = bin_dir / "node"
    node.write_text(f"#!/bin/sh\necho ran > {mark}\necho v22.1.0\n")  # builtins only: PATH is bin_dir
    node.chmod(0o755)
    env = Env(home=tmp_path, project=tmp_path, environ={"PATH": str(bin_dir)})
    facts = install.node_facts(env, None, ["/usr/bin/uvx"], timeout=10)
    assert not mark.exists() and facts.version is None and facts.node == str(node)
    facts = install.node_facts(env, None, ["npx"], timeout=10)
    assert mark.exists() and facts.version == "22.1.0"


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads this machine's /proc (Linux)")
def test_the_process_table_read_from_proc_is_what_psutil_gives(tmp_path):
    """On Linux the table comes from /proc itself (psutil's import costs more than the read). Its names are
    psutil's: a name the kernel cut at 15 characters is completed from the command line."""
    long_name = tmp_path / "preflight-long-process-name-sleeper"
    shutil.copy(shutil.which("sleep"), long_name)
    sleeper = subprocess.Popen([str(long_name), "30"])
    try:
        wait_for(lambda: psutil.Process(sleeper.pid).name() == long_name.name, "the sleeper to exec")
        table = Env(home=tmp_path, project=tmp_path).process_table()
        assert table[sleeper.pid] == (long_name.name, os.getpid())
        assert table[os.getpid()] == (psutil.Process().name(), os.getppid())
        for pid in (sleeper.pid, os.getpid(), os.getppid()):
            assert table[pid][0] == psutil.Process(pid).name()
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads this machine's /proc (Linux)")
def test_pid_exists_is_psutils_answer_on_linux(tmp_path):
    """A live process yes; a reaped one no; a thread's id no (psutil.pid_exists tells threads apart by Tgid)."""
    import threading

    env = Env(home=tmp_path, project=tmp_path)
    gone = subprocess.Popen(["true"])
    gone.wait()
    ready, stop = threading.Event(), threading.Event()
    tids = []
    worker = threading.Thread(target=lambda: (tids.append(threading.get_native_id()), ready.set(), stop.wait()))
    worker.start()
    try:
        ready.wait(5)
        for pid in (os.getpid(), os.getppid(), gone.pid, tids[0], 0):
            assert env.pid_exists(pid) == psutil.pid_exists(pid), pid
        assert env.pid_exists(os.getpid()) and not env.pid_exists(gone.pid) and not env.pid_exists(tids[0])
    finally:
        stop.set()
        worker.join()
