"""What every bench script shares: the machine load at start, interleaved runs, medians and ratios.

Runs are interleaved (A B C, A B C, ...) so that a change in the machine's load during the sitting hits every
variant alike; the figures are medians of one sitting.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable


def print_load() -> None:
    one, five, fifteen = os.getloadavg()
    print(f"machine load at start: {one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min), {os.cpu_count()} CPUs")


def interleaved(variants: dict[str, Callable[[], object]], runs: int, warm: bool = True) -> dict[str, list]:
    """Each variant's samples, the variants taking turns `runs` times (after one warm-up turn each)."""
    if warm:
        for call in variants.values():
            call()
    samples: dict[str, list] = {name: [] for name in variants}
    for _ in range(runs):
        for name, call in variants.items():
            samples[name].append(call())
    return samples


def median(values) -> float:
    return statistics.median(values)


def ratio_line(name: str, figure: float, floor: float, target: float | None = None, unit: str = "s") -> str:
    aim = f" (target <= {target:g})" if target is not None else ""
    return f"{name}: {figure:.3f} {unit} vs floor {floor:.3f} {unit}: ratio {figure / floor:.2f}{aim}"


def user_environ(extra: dict | None = None) -> dict:
    """The environment a user's run has: bytecode written and reused (PYTHONDONTWRITEBYTECODE, which some
    sandboxes set, would make every run compile every module from source, the floor's pytest included)."""
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**environ, **(extra or {})}
