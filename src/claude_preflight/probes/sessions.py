"""The running-session registry (~/.claude/sessions/<pid>.json) and graceful-shutdown flags."""

from __future__ import annotations

from pathlib import Path

from claude_preflight.env import Env, lstart_text
from claude_preflight.probes.files import read_json
from claude_preflight.records import dataclass
from claude_preflight.values import epoch_ms


@dataclass(frozen=True)
class RegistryEntry:
    file: Path
    pid: int | None
    session_id: str | None
    cwd: str | None
    started_at_ms: int | None
    proc_start: str | None
    live_start: str | None  # field 22 of /proc/<pid>/stat now; None: no such process

    @property
    def alive(self) -> bool:
        """The same process is still running (a reused pid has another start time)."""
        return self.live_start is not None and (self.proc_start is None or self.proc_start == self.live_start)


def process_start(env: Env, pid: int) -> str | None:
    """Field 22 (starttime) of /proc/<pid>/stat, parsed after the last ')' since comm may hold spaces."""
    try:
        text = env.read_text(env.sys_path(f"/proc/{pid}/stat"))
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def _live_start(env: Env, pid: int, recorded: str | None) -> str | None:
    if env.platform == "darwin":
        # Claude Code on macOS records procStart as `LC_ALL=C TZ=UTC ps -o lstart= -p <pid>`: the same text from
        # the process table tells a reused pid from the session's own process.
        details = env.process_details(pid, ["create_time"])
        if details is None:
            return None
        started = details.get("create_time")
        return lstart_text(started) if started is not None else recorded
    if env.exists(env.sys_path("/proc/self")) or env.simulated:
        return process_start(env, pid)
    # No procfs (macOS): the pid's existence is all we can compare.
    return recorded if env.pid_exists(pid) else None


def registry(env: Env, max_bytes: int = 1 << 20) -> list[RegistryEntry]:
    entries = []
    for path, _ in sorted(env.entries(env.config_dir / "sessions")):
        if not path.name.endswith(".json"):
            continue
        data = read_json(env, path, max_bytes).data
        if not isinstance(data, dict):
            continue
        pid = data.get("pid") if isinstance(data.get("pid"), int) else None
        recorded = str(data["procStart"]) if data.get("procStart") is not None else None
        entries.append(
            RegistryEntry(
                file=path,
                pid=pid,
                session_id=data.get("sessionId"),
                cwd=data.get("cwd"),
                started_at_ms=epoch_ms(data.get("startedAt")),
                proc_start=recorded,
                live_start=_live_start(env, pid, recorded) if pid else None,
            )
        )
    return entries


@dataclass(frozen=True)
class UngracefulProject:
    directory: str
    last_session_id: str | None
    last_start_ms: int | None


def ungraceful_projects(env: Env, max_bytes: int) -> list[UngracefulProject]:
    """Projects whose last session did not shut down gracefully (projects[dir].lastGracefulShutdown false)."""
    data = read_json(env, env.user_state_file, max_bytes).data
    projects = data.get("projects") if isinstance(data, dict) else None
    if not isinstance(projects, dict):
        return []
    return [
        UngracefulProject(directory, info.get("lastSessionId"), info.get("lastStartTime"))
        for directory, info in projects.items()
        if isinstance(info, dict) and info.get("lastGracefulShutdown") is False
    ]
