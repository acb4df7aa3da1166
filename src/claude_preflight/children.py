"""Every process a run starts, and the guarantee that none of them (nor their descendants) outlives it.

Env-level code only: `Env.run` and the MCP handshake spawn through `spawn` and end through `release`.

A child starts in its own session (so its process group can be killed at once) and carries a token in its
environment, which its descendants inherit. A server that double-forks a `setsid` daemon leaves its group and
its parent; on Linux this process is a child subreaper while children of ours live, so such an orphan is
re-parented to us instead of to init, and the token tells it apart from anything else we may have started. `stop_all` (interrupt, end of
run) kills every group still registered and every tokened process still around, and queued work sees
`cancelled` and starts nothing more.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import uuid

TOKEN_VARIABLE = "CLAUDE_PREFLIGHT_CHILD"
_RUN_TOKEN = uuid.uuid4().hex  # per process: a second run in the same process shares it, harmlessly

_lock = threading.Lock()
_live: dict[int, subprocess.Popen] = {}
cancelled = threading.Event()  # set by stop_all: spawn refuses, waiting loops give up


# A group to kill at once: a new session on POSIX; on Windows a new process group (CREATE_NEW_PROCESS_GROUP), and
# the tree is killed through psutil (there is no killpg), which `release` does on every system anyway.
_NEW_GROUP: dict[str, object] = (
    {"start_new_session": True}
    if os.name == "posix"
    else {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
)


class Cancelled(Exception):
    """The run is being stopped: nothing new starts."""


def _subreaper(on: bool) -> None:
    """While children of ours live, orphans of their descendants are re-parented to us (Linux), not to init.

    Only then: otherwise a process that merely runs claude-preflight (the self-tests) would adopt every orphan
    of its own, and an orphaned Claude Code session would look parented.
    """
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):  # best effort: without it, a daemon's orphan goes to init
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, int(on), 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def spawn(argv: list[str], environ: dict[str, str], **popen: object) -> subprocess.Popen:
    """Start argv in a new session, tokened and registered; raises Cancelled once the run is stopping.

    Raises OSError (and ValueError for a NUL byte, UnicodeEncodeError for a lone surrogate) as Popen does.
    """
    if cancelled.is_set():
        raise Cancelled()
    tokened = {**environ, TOKEN_VARIABLE: _RUN_TOKEN}
    with _lock:  # registered before anyone else looks: release() must never take it for an orphan
        if not _live:
            _subreaper(True)
        try:
            proc = subprocess.Popen(argv, env=tokened, **_NEW_GROUP, **popen)  # type: ignore[call-overload]
        except BaseException:
            if not _live:
                _subreaper(False)
            raise
        _live[proc.pid] = proc
    if cancelled.is_set():  # stop_all ran while we were starting it
        release(proc)
        raise Cancelled()
    return proc


def release(proc: subprocess.Popen) -> None:
    """Kill proc, its process group and every descendant (escaped daemons included), and reap them."""
    with _lock:
        _live.pop(proc.pid, None)
    _kill_group(proc.pid)
    doomed: set[int] = set()
    for _ in range(3):  # a process may fork while we kill: look again
        orphans, theirs = _tokened_orphans()
        found = (_descendants(proc.pid) | orphans | theirs) - doomed
        for pid in found:
            _kill(pid)
        doomed |= found
        if not found:
            break
    if not hasattr(os, "killpg"):  # Windows: no group kill took proc itself; its tree was found above
        with contextlib.suppress(OSError):
            proc.kill()
    if proc.poll() is None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
    _reap(doomed)  # with proc gone, its killed descendants are re-parented to us (the subreaper)
    with _lock:
        if not _live:
            _subreaper(False)


def done(proc: subprocess.Popen) -> None:
    """proc ended on its own and was waited for (a scan worker that started nothing): no longer the run's, with
    none of release()'s search for descendants; one still running is released."""
    if proc.poll() is None:
        release(proc)
        return
    with _lock:
        _live.pop(proc.pid, None)
        if not _live:
            _subreaper(False)


def stop_all() -> None:
    """The run is ending or interrupted: start nothing more, kill everything started."""
    cancelled.set()
    with _lock:
        procs = list(_live.values())
    for proc in procs:
        release(proc)
    orphans, theirs = _tokened_orphans()
    for pid in orphans | theirs:
        _kill(pid)
    _reap(orphans)


def reset() -> None:
    """A new run in the same process (the self-tests) may start children again."""
    cancelled.clear()


def _kill_group(pgid: int) -> None:
    if not hasattr(os, "killpg"):  # Windows: the process tree is killed through psutil in release()
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _psutil():
    """psutil, imported when first needed (start-up cost); None where it cannot load (killing the group remains)."""
    try:
        import psutil
    except ImportError:
        return None
    return psutil


def _kill(pid: int) -> None:
    psutil = _psutil()
    if psutil is not None:
        with contextlib.suppress(psutil.Error):
            psutil.Process(pid).kill()


def _children(pid: int) -> set[int] | None:
    """The direct children of a process, from the kernel's own list where Linux keeps one
    (/proc/<pid>/task/*/children: a few files, not the ppid of every process on the machine); None where it
    cannot tell (another system, or a kernel without that list)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return set() if os.path.isdir("/proc/self") else None  # gone (reaped): it has no children
    except OSError:
        return None
    found: set[int] = set()
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", "rb") as listing:
                found.update(int(child) for child in listing.read().split())
        except FileNotFoundError:
            continue  # the thread ended meanwhile
        except OSError:
            return None
    return found


def _descendants(pid: int) -> set[int]:
    """Every process below pid: a walk of the kernel's child lists on Linux, psutil's full table elsewhere."""
    first = _children(pid) if sys.platform.startswith("linux") else None
    if first is not None:
        found, stack = set(first), list(first)
        while stack:
            for child in _children(stack.pop()) or ():
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return found
    psutil = _psutil()
    if psutil is None:
        return set()
    try:
        return {child.pid for child in psutil.Process(pid).children(recursive=True)}
    except psutil.Error:
        return set()


def _tokened_orphans() -> tuple[set[int], set[int]]:
    """Our own unregistered children that carry this run's token (re-parented daemons), and their descendants."""
    orphans: set[int] = set()
    theirs: set[int] = set()
    with _lock:
        registered = set(_live)
    for child in _own_children() - registered:
        if _has_token(child):
            orphans.add(child)
            theirs.update(_descendants(child))
    return orphans, theirs


def _has_token(pid: int) -> bool:
    """The process's environment carries this run's token: from /proc/<pid>/environ on Linux, else psutil."""
    if sys.platform.startswith("linux"):
        try:
            with open(f"/proc/{pid}/environ", "rb") as environ:
                return f"{TOKEN_VARIABLE}={_RUN_TOKEN}".encode() in environ.read().split(b"\0")
        except OSError:
            return False
    psutil = _psutil()
    if psutil is None:
        return False
    try:
        return psutil.Process(pid).environ().get(TOKEN_VARIABLE) == _RUN_TOKEN
    except psutil.Error:
        return False


def _own_children() -> set[int]:
    """This process's direct children (cheaply on Linux, see _children)."""
    me = os.getpid()
    direct = _children(me) if sys.platform.startswith("linux") else None
    if direct is not None:
        return direct
    psutil = _psutil()
    if psutil is None:
        return set()
    try:
        return {child.pid for child in psutil.Process(me).children()}
    except psutil.Error:
        return set()


def _reap(pids: set[int]) -> None:
    """Collect the exit status of the killed processes that are our children now; others are not ours to wait for."""
    if os.name != "posix":
        return
    for pid in pids:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, 0)  # SIGKILLed: returns at once; ChildProcessError: not our child
