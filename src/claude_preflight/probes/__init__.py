"""Probes read facts from an Env and return frozen dataclasses: no judgement, no thresholds."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")
_RESULTS: dict[tuple, tuple[object, object]] = {}
_KEY_LOCKS: dict[tuple, threading.Lock] = {}
_LOCK = threading.Lock()  # guards _KEY_LOCKS only: never held while computing


def once_per_run(name: str, env, key: Hashable, compute: Callable[[], T]) -> T:
    """Facts several checks share (a survey, a scan) are gathered once per Env and key.

    Each key has its own lock, so one slow computation (an MCP survey waiting on a server) never blocks
    another (the installation scan the end of an interrupted run asks for). The Env is kept with the result
    so that its id() cannot be reused by a later Env while cached.
    """
    cache_key = (name, id(env), key)
    with _LOCK:
        lock = _KEY_LOCKS.setdefault(cache_key, threading.Lock())
    with lock:
        if cache_key not in _RESULTS:
            _RESULTS[cache_key] = (env, compute())
        return _RESULTS[cache_key][1]
