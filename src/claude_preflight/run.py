"""What one run holds: facts gathered once and shared by several checks, secrets learnt while checking, and
the run's deadline. One Run per Env (made with it), so two runs in one process (the self-tests) share nothing.

The processes a run starts are registered process-wide in children.py instead: the subreaper flag and the
signal that interrupts a run belong to the process, and `stop_all` must reach every child from a signal handler.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")

# Shorter values are not learnt: masking "1" or "true" everywhere would garble every report.
MIN_SECRET_LENGTH = 6
BY_VERSION_KEYS = 4  # files whose parse a run keeps (see Run.by_version)


class Run:
    def __init__(self, deadline_s: float | None = None) -> None:
        self._results: dict[Hashable, object] = {}
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()  # guards _key_locks and _by_version: never held while computing
        self.learned: set[str] = set()  # secrets found while checking (an apiKeyHelper's output, a Keychain item)
        self._by_version: dict[Hashable, tuple[Hashable, object]] = {}  # see by_version
        self.early: dict[str, object] = {}  # check id -> its Job, started before its turn (checking.start_early)
        self.started = time.monotonic()
        self.deadline = None if deadline_s is None else self.started + deadline_s

    def __reduce__(self):
        # A worker process (the parallel transcript scan) gets a fresh, empty Run: locks do not travel.
        return (Run, ())

    def once(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Facts several checks share (a survey, a scan) are gathered once per run and key.

        Each key has its own lock, so one slow computation (an MCP survey waiting on a server) never blocks
        another (the installation scan the end of an interrupted run asks for).
        """
        with self._lock:
            lock = self._key_locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._results:
                self._results[key] = compute()
            return self._results[key]  # type: ignore[return-value]

    def by_version(self, key: Hashable, version: Hashable, compute: Callable[[], T]) -> T:
        """compute() once per run and key while `version` stays the same (a file several checks read whole, by
        its inode, size and times); a few keys are kept, the least recently used dropped."""
        with self._lock:
            kept = self._by_version.pop(key, None)
            if kept is not None and kept[0] == version:
                self._by_version[key] = kept  # now the most recently used
                return kept[1]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            self._by_version.pop(key, None)
            self._by_version[key] = (version, value)
            while len(self._by_version) > BY_VERSION_KEYS:
                del self._by_version[next(iter(self._by_version))]
        return value

    def learn(self, secret: object) -> None:
        """A secret found while checking: every redaction of this run masks it from now on."""
        if isinstance(secret, str) and len(secret.strip()) >= MIN_SECRET_LENGTH:
            self.learned.add(secret.strip())

    def remaining(self) -> float | None:
        """Seconds left before the run's deadline (None: no deadline)."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def clear(self) -> None:
        """The run is over: drop what it gathered (the Env may live on in a test)."""
        with self._lock:
            self._results.clear()
            self.early.clear()
            self._by_version.clear()
            self._key_locks.clear()
