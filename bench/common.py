"""What every bench script shares: the machine load at start, interleaved runs, medians and ratios.

Runs are interleaved (A B C, A B C, ...) so that a change in the machine's load during the sitting hits every
variant alike; the figures are medians of one sitting.
"""

from __future__ import annotations

import atexit
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path


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


def add_python_option(parser) -> None:
    parser.add_argument(
        "--python",
        help="interpreter of an install to measure (default: a new venv with a wheel of this checkout, as a user "
        "installs it: its runtime dependencies only)",
    )


def user_python(given: str | None, root: Path) -> str:
    """The interpreter the measured runs use. By default a new venv holding a wheel of `root` and its runtime
    dependencies only, as `pip install` gives a user: the self-tests' venv also holds hypothesis, whose pytest
    plugin loads in every pytest run there (the floor's too) and costs about 100 ms of each."""
    if given:
        return given
    venv = Path(tempfile.mkdtemp(prefix="preflight-bench-venv-"))
    atexit.register(shutil.rmtree, venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(root)], check=True, stderr=subprocess.DEVNULL)
    print(f"measuring a wheel install of {root} in a new venv ({venv})")
    return str(python)
