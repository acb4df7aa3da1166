"""Probes read facts from an Env and return frozen dataclasses: no judgement, no thresholds."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


def once_per_run(name: str, env, key: Hashable, compute: Callable[[], T]) -> T:
    """Facts several checks share are gathered once per run (the Env's Run) and key."""
    return env.this_run.once((name, key), compute)
