"""How a check is declared and run: the `check` decorator and guarded execution.

A check is a plain function `(env, policy[, target]) -> Result`. `@check(id, targets=...)` attaches
its catalogue entry and, for parametrised checks, the function `(env, policy) -> [Target]` that lists what
it runs on. A Target is anything with a stable `id` (the test id, the JSON "target") and a `label` (the
text a person reads); see `Target`.
`run_check` is the one way a check runs (the pytest plugin and the self-tests both use it): an
exception or a timeout inside becomes that check's `fail`, never a lost result.
"""

from __future__ import annotations

import os
import queue
import threading
import time
import traceback
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

from claude_preflight import catalogue, platforms
from claude_preflight.outcome import Result, Status, skip
from claude_preflight.records import dataclass

BUG_HINT = "This is a claude-preflight bug, not a problem with your machine: please report it with this text."


class Target(Protocol):
    """What a parametrised check runs on: a config file, a filesystem, an MCP server, a damage kind, ..."""

    @property
    def id(self) -> str: ...

    @property
    def label(self) -> str | None: ...


@dataclass(frozen=True)
class CheckSpec:
    info: catalogue.CheckInfo
    function: Callable[..., Result]
    targets: Callable[[Any, Any], list] | None = None  # (env, policy) -> [Target]
    early: bool = False  # mostly waits on a child process: started when the run starts (see start_early)
    uses: tuple[str, ...] = ()  # facts begun before the checks are collected (see begin_facts)


REGISTRY: dict[str, CheckSpec] = {}


def check(
    check_id: str, targets: Callable[[Any, Any], list] | None = None, early: bool = False, uses: tuple[str, ...] = ()
):
    """Declare a check function; `targets(env, policy)` lists what a parametrised check runs on. `early`: the
    check mostly waits on a command (`node --version` starts in 30-60 ms): it is started with the run, so that
    the command runs while the checks before it do, and its result is taken when its turn comes. `uses`: the
    names of the facts (FACTS) the check asks for, which the run begins before it collects the checks."""
    info = catalogue.get(check_id)

    def declare(function):
        spec = CheckSpec(info, function, targets, early, uses)
        function.preflight_spec = spec
        REGISTRY[check_id] = spec
        return function

    return declare


@dataclass(frozen=True)
class NoTarget:
    """Stands in as the only target when discovery found nothing (or failed)."""

    reason: str
    error: str | None = None
    id: str = "none"
    label: str | None = None


def discover(spec: CheckSpec, env, policy) -> list:
    """The targets of a parametrised check; discovery errors become a NoTarget that fails."""
    reason = platforms.unsupported(spec.info.id, getattr(env, "platform", ""))
    if reason:  # nothing platform-specific is even listed where the check does not apply
        return [NoTarget(reason, id="not-here")]
    try:
        found = list(spec.targets(env, policy))
    except Exception as exc:  # noqa: BLE001 - containment is the point
        return [NoTarget("target discovery failed", _error_text(exc), id="discovery-error")]
    return found or [NoTarget("nothing to check here")]


def internal_error(detail: str) -> Result:
    """A check that could not give a verdict because of a claude-preflight bug: status `error`, never `fail`."""
    first = detail.splitlines()[0] if detail else ""
    return Result(Status.ERROR, f"internal error in claude-preflight: {first}", (detail,), BUG_HINT)


def _error_text(exc: BaseException) -> str:
    frames = traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-4)
    return "".join(frames).strip()


class Job:
    """A check started on a check thread: its outcome box, filled when `done` is set."""

    def __init__(self) -> None:
        self.box: dict[str, Any] = {}
        self.done = threading.Event()
        self.started = time.monotonic()
        self.seconds: float | None = None  # how long the call took, once done

    def run(self, call: Callable[[], Any]) -> None:
        begin = time.monotonic()
        try:
            self.box["result"] = call()
        except BaseException as exc:  # noqa: BLE001 - SystemExit from a probe must not end the run
            self.box["error"] = exc
        self.seconds = time.monotonic() - begin
        self.done.set()

    def wait(self, timeout: float) -> dict[str, Any] | None:
        """{"result": ...} or {"error": exception}; None when not done within `timeout` of its start."""
        return self.box if self.done.wait(max(0.0, self.started + timeout - time.monotonic())) else None


class _CheckThreads:
    """Daemon threads that run checks, kept between checks: a new thread per check cost about 0.5 ms on a 2-CPU
    machine, a third of a whole offline run's check time. A thread whose check overran its timeout is left
    behind (a thread cannot be killed) and another one takes the next check."""

    def __init__(self) -> None:
        self._reset()
        if hasattr(os, "register_at_fork"):  # a forked child has none of these threads: it starts its own
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # threads waiting for a job that no submitted job has claimed yet

    def start(self, name: str, call: Callable[[], Any]) -> Job:
        """call() on a kept thread; the Job has its outcome."""
        job = Job()
        with self._lock:
            if self._idle:
                self._idle -= 1
            else:
                threading.Thread(target=self._serve, name="claude-preflight check", daemon=True).start()
        self._jobs.put((name, call, job))
        return job

    def _serve(self) -> None:
        while True:
            name, call, job = self._jobs.get()
            threading.current_thread().name = name  # what a stack dump of a stuck run names
            job.run(call)
            del call, job  # nothing of a finished check is held while this thread waits for the next
            with self._lock:
                self._idle += 1


CHECK_THREADS = _CheckThreads()


def run_check(
    spec: CheckSpec, call: Callable[[], Result], timeout: float, offline: bool = False, target=None, job=None
) -> Result:
    """Run one check with containment: exceptions, timeouts and bad return values become a fail. `job`: the
    check already started (early), its timeout counted from then."""
    if isinstance(target, NoTarget):
        return internal_error(target.error) if target.error else skip(target.reason)
    if spec.info.network and offline:
        return skip("--offline: this check needs the network")
    box = (job or CHECK_THREADS.start(f"check {spec.info.id}", call)).wait(timeout)
    if box is None:
        # The thread cannot be killed; it is a daemon, so it does not keep the run alive.
        return internal_error(f"check {spec.info.id} timed out after {timeout:g} s (check_timeout_s)")
    if "error" in box:
        exc = box["error"]
        return internal_error(f"{type(exc).__name__}: {exc}\n{_error_text(exc)}")
    result = box.get("result")
    if not isinstance(result, Result):
        return internal_error(f"check {spec.info.id} returned {type(result).__name__}, not a Result")
    if result.status in (Status.WARN, Status.FAIL) and not result.remediation:
        return internal_error(f"check {spec.info.id} gave a {result.status.value} without remediation")
    return result


def run(spec: CheckSpec, env, policy, target=None) -> Result:
    """Run one declared check the way every caller does: `(env, policy[, target])`, the policy's timeout and --offline."""
    reason = platforms.unsupported(spec.info.id, getattr(env, "platform", ""))
    if reason:
        return skip(reason)
    kwargs = {"env": env, "policy": policy} | ({"target": target} if target is not None else {})
    job = env.this_run.early.pop(spec.info.id, None) if target is None and hasattr(env, "this_run") else None
    return run_check(
        spec, lambda: spec.function(**kwargs), policy.check_timeout_s, offline=policy.offline, target=target, job=job
    )


def start_early(specs: list[CheckSpec], env, policy) -> None:
    """Start the early checks among `specs` now, each on a check thread; `run` takes their results later. A
    check that would not run (another platform, --offline) is left to `run`, which says why."""
    for spec in specs:
        if spec.early and not spec.targets and spec.info.id not in env.this_run.early:
            if platforms.unsupported(spec.info.id, env.platform) or (spec.info.network and policy.offline):
                continue
            call = partial(spec.function, env=env, policy=policy)
            env.this_run.early[spec.info.id] = CHECK_THREADS.start(f"check {spec.info.id}", call)


def _begin_recent_scans(env, policy):
    from claude_preflight.probes import transcripts

    return transcripts.start_recent_scans(env, policy)


# Facts worth beginning before pytest has even collected the checks (0.1-0.2 s that one CPU would spend waiting):
# name -> begin(env, policy), which returns something with a cancel() for a run that selects no check using it.
FACTS: dict[str, Callable[[Any, Any], Any]] = {"recent-scans": _begin_recent_scans}


def begin_facts(env, policy) -> dict[str, Any]:
    """Begin every fact of FACTS: a scan of a big history starts its worker processes. One that fails to begin is
    left to the checks that ask for it, which say why."""
    begun = {}
    for name, begin in FACTS.items():
        try:
            begun[name] = begin(env, policy)
        except Exception:  # noqa: BLE001, S112 - the checks ask again and report it
            continue
    return begun


def keep_facts(begun: dict[str, Any], specs: list[CheckSpec]) -> None:
    """Cancel the begun facts that none of the selected checks uses (`-k memory` scans no history)."""
    used = {name for spec in specs for name in spec.uses}
    for name, fact in begun.items():
        if name not in used:
            fact.cancel()


def run_targets(spec: CheckSpec, env, policy) -> list[tuple[Any, Result]]:
    """Run a check on each of its targets (or once, for a check without targets)."""
    targets = discover(spec, env, policy) if spec.targets else [None]
    return [(target, run(spec, env, policy, target)) for target in targets]
