"""The memory family's time with 2,000 extra processes on the machine, beside `ps -e` on the same machine.

    .venv/bin/python bench/bench_processes.py [--extra 2000] [--runs 7]

Starts 8 stand-in `claude` processes and the extra ones (sleep) in one process group and kills the group at the end, also on error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from claude_preflight.checking import REGISTRY, run
from claude_preflight.env import Env
from claude_preflight.policy import Policy

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def memory_family(env: Env, policy: Policy) -> None:
    for check_id, spec in REGISTRY.items():
        if check_id.startswith("memory."):
            run(spec, env, policy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--extra", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    common.print_load()
    importlib.import_module("claude_preflight.checks.test_memory")
    env = Env(home=Path.home(), project=Path.cwd())
    policy = Policy()
    # Eight stand-in Claude Code processes (a `claude` symlink to sleep: the kernel names a process after the
    # file it ran), among the extra ones.
    stand_in = Path(tempfile.mkdtemp(prefix="preflight-bench-processes-")) / "claude"
    stand_in.symlink_to(shutil.which("sleep") or "/bin/sleep")
    script = f"for i in $(seq 8); do '{stand_in}' 600 & done; for i in $(seq {args.extra}); do sleep 600 & done; wait"
    group = subprocess.Popen(["sh", "-c", script], start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(os.listdir("/proc")) < args.extra and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)
        count = sum(name.isdigit() for name in os.listdir("/proc"))
        print(f"{count} processes on the machine ({args.extra} extra), {args.runs} interleaved rounds")
        print(
            f"claude processes found: {len(importlib.import_module('claude_preflight.probes.processes').claude_processes(env))}\n"
        )
        scan_module = importlib.import_module("claude_preflight.probes.processes")
        samples = common.interleaved(
            {
                "family": lambda: timed(lambda: memory_family(env, policy)),
                "scan": lambda: timed(lambda: scan_module.claude_processes(env)),
                "ps": lambda: timed(lambda: subprocess.run(["ps", "-e"], capture_output=True, check=True)),
            },
            args.runs,
        )
        family, scan, ps = (statistics.median(samples[k]) for k in ("family", "scan", "ps"))
        print(f"memory family (7 checks)       median {family * 1000:7.1f} ms")
        print(f"  of which the process scan    median {scan * 1000:7.1f} ms")
        print(f"ps -e (the floor)              median {ps * 1000:7.1f} ms")
        print(f"\nratio process scan / ps -e: {scan / ps:.2f} (target <= 1.2)   family / ps -e: {family / ps:.2f}")
    finally:
        os.killpg(group.pid, signal.SIGKILL)
        group.wait()
        shutil.rmtree(stand_in.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
