"""How a check is declared and run: the `check` decorator and guarded execution.

A check is a plain function `(env, policy[, target]) -> Result`. `@check(id, targets=...)` attaches
its catalogue entry and, for parametrised checks, the function `(env, policy) -> [Target]` that lists what
it runs on. A Target is anything with a stable `id` (the test id, the JSON "target") and a `label` (the
text a person reads); see `Target`.
`run_check` is the one way a check runs (the pytest plugin and the self-tests both use it): an
exception or a timeout inside becomes that check's `fail`, never a lost result.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
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


REGISTRY: dict[str, CheckSpec] = {}


def check(check_id: str, targets: Callable[[Any, Any], list] | None = None):
    """Declare a check function; `targets(env, policy)` lists what a parametrised check runs on."""
    info = catalogue.get(check_id)

    def declare(function):
        spec = CheckSpec(info, function, targets)
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


def run_check(
    spec: CheckSpec, call: Callable[[], Result], timeout: float, offline: bool = False, target=None
) -> Result:
    """Run one check with containment: exceptions, timeouts and bad return values become a fail."""
    if isinstance(target, NoTarget):
        return internal_error(target.error) if target.error else skip(target.reason)
    if spec.info.network and offline:
        return skip("--offline: this check needs the network")
    box: dict[str, Any] = {}

    def body() -> None:
        try:
            box["result"] = call()
        except BaseException as exc:  # noqa: BLE001 - SystemExit from a probe must not end the run
            box["error"] = exc

    worker = threading.Thread(target=body, name=f"check {spec.info.id}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
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
    return run_check(
        spec, lambda: spec.function(**kwargs), policy.check_timeout_s, offline=policy.offline, target=target
    )


def run_targets(spec: CheckSpec, env, policy) -> list[tuple[Any, Result]]:
    """Run a check on each of its targets (or once, for a check without targets)."""
    targets = discover(spec, env, policy) if spec.targets else [None]
    return [(target, run(spec, env, policy, target)) for target in targets]
