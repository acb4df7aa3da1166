"""run_check: the one way a check runs, and everything that can go wrong inside it."""

from __future__ import annotations

import os
import threading
import time

from claude_preflight.catalogue import CheckInfo
from claude_preflight.checking import CheckSpec, NoTarget, discover, run_check
from claude_preflight.outcome import Result, Status, ok, warn

LOCAL = CheckSpec(CheckInfo("x.local", "x", "t", "c", "https://d"), function=lambda: None)
NETWORK = CheckSpec(CheckInfo("x.net", "x", "t", "c", "https://d", network=True), function=lambda: None)


def test_a_good_result_passes_through():
    result = run_check(LOCAL, lambda: ok("fine"), timeout=5)
    assert result == ok("fine")


def test_an_exception_becomes_an_internal_error_with_its_text():
    def boom():
        raise ValueError("bad value 42")

    result = run_check(LOCAL, boom, timeout=5)
    assert result.status is Status.ERROR  # a bug of ours, not a verdict about the machine
    assert result.summary == "internal error in claude-preflight: ValueError: bad value 42"
    assert "claude-preflight bug" in result.remediation and "boom" in "\n".join(result.evidence)


def test_system_exit_inside_a_probe_does_not_end_the_run():
    def leave():
        raise SystemExit(3)

    assert run_check(LOCAL, leave, timeout=5).status is Status.ERROR


def test_a_hang_becomes_an_internal_error_after_the_timeout():
    start = time.monotonic()
    result = run_check(LOCAL, lambda: time.sleep(10), timeout=0.2)
    assert time.monotonic() - start < 5
    assert result.status is Status.ERROR and "timed out after 0.2 s" in result.summary


def test_checks_after_a_hang_run_on_another_thread():
    gate = threading.Event()
    assert run_check(LOCAL, gate.wait, timeout=0.2).status is Status.ERROR  # its thread stays stuck
    try:
        start = time.monotonic()
        names = [run_check(LOCAL, lambda: ok(threading.current_thread().name), timeout=5).summary for _ in range(3)]
        assert names == ["check x.local"] * 3 and time.monotonic() - start < 4
    finally:
        gate.set()


def test_a_forked_child_runs_checks_on_threads_of_its_own():
    assert run_check(LOCAL, lambda: ok("parent"), timeout=5).status is Status.OK  # a thread waits here now
    pid = os.fork()
    if pid == 0:  # the child has no thread of the parent's: a job left for one would wait out its timeout
        os._exit(0 if run_check(LOCAL, lambda: ok("child"), timeout=3) == ok("child") else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_non_result_is_a_bug():
    assert "returned int, not a Result" in run_check(LOCAL, lambda: 3, timeout=5).summary


def test_a_warn_without_remediation_is_a_bug():
    bare = Result(Status.WARN, "something", ())
    assert "without remediation" in run_check(LOCAL, lambda: bare, timeout=5).summary
    assert run_check(LOCAL, lambda: warn("w", remediation="do x"), timeout=5).status is Status.WARN


def test_offline_skips_network_checks_only():
    assert run_check(NETWORK, lambda: ok("x"), timeout=5, offline=True).status is Status.SKIP
    assert "--offline" in run_check(NETWORK, lambda: ok("x"), timeout=5, offline=True).summary
    assert run_check(LOCAL, lambda: ok("x"), timeout=5, offline=True).status is Status.OK


def test_discovery_with_nothing_found_skips_and_an_error_is_an_internal_error():
    empty = CheckSpec(LOCAL.info, LOCAL.function, targets=lambda env, policy: [])
    (target,) = discover(empty, env=None, policy=None)
    assert run_check(empty, lambda: ok("never"), timeout=5, target=target).status is Status.SKIP

    def broken(env, policy):
        raise OSError("no table")

    (target,) = discover(CheckSpec(LOCAL.info, LOCAL.function, targets=broken), env=None, policy=None)
    assert isinstance(target, NoTarget) and target.id == "discovery-error"
    result = run_check(LOCAL, lambda: ok("never"), timeout=5, target=target)
    assert result.status is Status.ERROR and "no table" in result.text()


def early_spec(function, check_id: str = "x.early", network: bool = False) -> CheckSpec:
    return CheckSpec(CheckInfo(check_id, "x", "t", "c", "https://d", network=network), function=function, early=True)


def test_an_early_check_starts_at_once_and_its_result_is_taken_at_its_turn(tmp_path):
    from claude_preflight.checking import run, start_early
    from claude_preflight.env import Env
    from claude_preflight.policy import Policy

    env, started = Env(home=tmp_path, project=tmp_path), threading.Event()

    def check(env, policy):
        started.set()
        return ok("early")

    spec = early_spec(check)
    start_early([spec], env, Policy())
    assert started.wait(5)  # ran before anyone asked for it
    assert run(spec, env, Policy()) == ok("early")
    assert "x.early" not in env.this_run.early  # taken once: a second run runs the check again
    started.clear()
    assert run(spec, env, Policy()) == ok("early") and started.is_set()


def test_an_early_check_keeps_every_containment(tmp_path):
    """Its exception is its internal error, and its timeout counts from when it started: a check stuck since
    the run began is not given its whole timeout again at its turn."""
    from claude_preflight.checking import run, start_early
    from claude_preflight.env import Env
    from claude_preflight.policy import Policy

    env, gate = Env(home=tmp_path, project=tmp_path), threading.Event()

    def boom(env, policy):
        raise ValueError("early boom")

    stuck = early_spec(lambda env, policy: gate.wait(), "x.stuck")
    policy = Policy(check_timeout_s=0.5)
    try:
        start_early([early_spec(boom), stuck], env, policy)
        time.sleep(0.6)  # past the stuck check's timeout
        begin = time.monotonic()
        result = run(stuck, env, policy)
        assert result.status is Status.ERROR and "timed out after 0.5 s" in result.summary
        assert time.monotonic() - begin < 0.45  # no second wait of 0.5 s
        assert "early boom" in run(early_spec(boom), env, policy).summary
    finally:
        gate.set()


def test_an_early_check_that_would_not_run_is_not_started(tmp_path):
    """--offline and another platform's checks are left to `run`, which skips them and says why."""
    from claude_preflight.checking import run, start_early
    from claude_preflight.env import Env
    from claude_preflight.policy import Policy

    ran = []
    env = Env(home=tmp_path, project=tmp_path)
    online = early_spec(lambda env, policy: ran.append("net") or ok("x"), "x.net", network=True)
    windows_only = early_spec(lambda env, policy: ran.append("win") or ok("x"), "windows.path")
    start_early([online, windows_only], env, Policy(offline=True))
    assert env.this_run.early == {} and ran == []
    assert run(online, env, Policy(offline=True)).status is Status.SKIP
