"""Probes read facts from an Env and return frozen dataclasses: no judgement, no thresholds."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")
_RESULTS: dict[tuple, tuple[object, object]] = {}
_LOCK = threading.RLock()


def once_per_run(name: str, env, key: Hashable, compute: Callable[[], T]) -> T:
    """Facts several checks share (a survey, a scan) are gathered once per Env and key.

    The Env is kept with the result so that its id() cannot be reused by a later Env while cached.
    """
    cache_key = (name, id(env), key)
    with _LOCK:
        if cache_key not in _RESULTS:
            _RESULTS[cache_key] = (env, compute())
        return _RESULTS[cache_key][1]
