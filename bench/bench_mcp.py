"""Ten real stdio MCP servers at once: the MCP family's wall time beside the slowest single handshake.

Target: ratio at most 1.3 (the handshakes run concurrently). Mixes: `sleepy` (ten servers whose start waits 1 s),
`tiny` (the tests' small server), `time` / `mixed` (mcp-server-time from PyPI, which imports the `mcp` package: a
CPU-bound start). A CPU-bound mix cannot beat its CPU floor (the servers' CPU time / cores), which is printed too.

    .venv/bin/python bench/bench_mcp.py [--servers 10] [--runs 7]
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from caserunner import load_checks  # noqa: E402

from claude_preflight.checking import REGISTRY, run_targets  # noqa: E402
from claude_preflight.env import Env  # noqa: E402
from claude_preflight.policy import Policy  # noqa: E402
from claude_preflight.probes import mcp  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

TINY = str(ROOT / "tests" / "mcp_servers" / "tiny.py")


def family(env: Env, policy: Policy) -> list[str]:
    return [result.status.value for check_id in ("mcp.server", "mcp.context")
            for _, result in run_targets(REGISTRY[check_id], env, policy)]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--servers", type=int, default=10)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--mix",
        choices=["mixed", "tiny", "time", "sleepy"],
        default="mixed",
        help="which servers: half mcp-server-time, all the tests' tiny server, or all mcp-server-time",
    )
    args = parser.parse_args()
    common.print_load()
    load_checks()
    time_server = shutil.which("mcp-server-time", path=str(Path(sys.executable).parent))

    def real(n: int) -> bool:
        return bool(time_server) and (args.mix == "time" or (args.mix == "mixed" and n % 2 == 0))

    mode = "sleepy" if args.mix == "sleepy" else "ok"
    commands = [[time_server] if real(n) else [sys.executable, TINY, mode, "20"] for n in range(args.servers)]
    work = Path(tempfile.mkdtemp(prefix="preflight-mcpbench-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)  # the fake homes and reports go with the run
    (work / "project").mkdir()
    (work / ".claude.json").write_text(json.dumps({"mcpServers": {
        f"s{n}": {"command": c[0], "args": c[1:]} for n, c in enumerate(commands)}}))  # fmt: skip
    policy = Policy(mcp_timeout_s=60, check_timeout_s=120)
    singles = []
    for command in commands:
        start = time.perf_counter()
        handshake = mcp.stdio_handshake(Env(home=work, project=work), command, dict(os.environ), work, 60)
        singles.append(time.perf_counter() - start)
        assert handshake.failure is None, handshake.detail
    slowest = max(singles)
    walls, statuses = [], []
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(args.runs):
        env = Env(home=work, project=work / "project", sysroot=Path("/nonexistent"))
        start = time.perf_counter()
        statuses = family(env, policy)
        walls.append(time.perf_counter() - start)
    wall = statistics.median(walls)
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime) / args.runs
    cores = os.cpu_count() or 1
    kinds = f"{sum(1 for c in commands if c[0] == time_server)} mcp-server-time + {sum(1 for c in commands if c[0] != time_server)} tiny"
    print(f"{args.servers} stdio servers ({kinds}), {args.runs} runs; statuses: {', '.join(sorted(set(statuses)))}")
    print(f"single handshakes, one at a time: slowest {slowest:.2f} s, sum {sum(singles):.2f} s")
    print(f"MCP family (all {args.servers} at once): median {wall:.2f} s")
    print(
        f"CPU the servers used per run: {cpu:.2f} s on {cores} cores: no schedule can finish under {cpu / cores:.2f} s"
    )
    print(
        f"ratio family / slowest single: {wall / slowest:.2f} (target <= 1.3); "
        f"family / max(slowest, CPU floor): {wall / max(slowest, cpu / cores):.2f}"
    )


if __name__ == "__main__":
    main()
