"""The memory family's time with 2,000 extra processes on the machine, beside `ps -e` on the same machine.

    .venv/bin/python bench/bench_processes.py [--extra 2000] [--runs 5]

Starts the extra processes (sleep) in one process group and kills the group at the end, also on error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import statistics
import subprocess
import time
from pathlib import Path

from claude_preflight.checking import REGISTRY, run
from claude_preflight.env import Env
from claude_preflight.policy import Policy


def timed(call, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def memory_family(env: Env, policy: Policy) -> None:
    for check_id, spec in REGISTRY.items():
        if check_id.startswith("memory."):
            run(spec, env, policy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--extra", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    importlib.import_module("claude_preflight.checks.test_memory")
    env = Env(home=Path.home(), project=Path.cwd())
    policy = Policy()
    script = f"for i in $(seq {args.extra}); do sleep 600 & done; wait"
    group = subprocess.Popen(["sh", "-c", script], start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(os.listdir("/proc")) < args.extra and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)
        count = sum(name.isdigit() for name in os.listdir("/proc"))
        print(f"{count} processes on the machine ({args.extra} extra), {args.runs} runs each\n")
        family = timed(lambda: memory_family(env, policy), args.runs)
        scan = timed(
            lambda: __import__("claude_preflight.probes.processes", fromlist=["x"]).claude_processes(env), args.runs
        )
        ps = timed(lambda: subprocess.run(["ps", "-e"], capture_output=True, check=True), args.runs)
        print(f"memory family (7 checks)       median {family * 1000:7.1f} ms")
        print(f"  of which the process scan    median {scan * 1000:7.1f} ms")
        print(f"ps -e                          median {ps * 1000:7.1f} ms")
        print(f"\nratio family / ps -e: {family / ps:.2f}   process scan / ps -e: {scan / ps:.2f}")
    finally:
        os.killpg(group.pid, signal.SIGKILL)
        group.wait()


if __name__ == "__main__":
    main()
