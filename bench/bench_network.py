"""Wall time of the whole network family against a local HTTPS server where every endpoint takes 1 s.

It must stay close to 1 s plus overhead (the requests go at once), not the sum of the requests (5 s with --live:
3 latency samples, the key check and the stream).

    .venv/bin/python bench/bench_network.py [--delay 1.0] [--runs 7]
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from caserunner import load_checks  # noqa: E402
from servers import KEY_PREFIX, tls_api  # noqa: E402

from claude_preflight.checking import REGISTRY, run  # noqa: E402
from claude_preflight.env import Env  # noqa: E402
from claude_preflight.policy import Policy  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    common.print_load()
    load_checks()
    work = Path(tempfile.mkdtemp(prefix="preflight-netbench-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)  # the fake homes and reports go with the run
    server, ca = tls_api(work)
    server.delay = args.delay
    family = [check_id for check_id in REGISTRY if check_id.startswith("network.")]
    samples, requests = [], []
    try:
        for _ in range(args.runs):
            env = Env(home=work, project=work, environ={
                "PATH": os.environ["PATH"], "ANTHROPIC_API_KEY": f"{KEY_PREFIX}ok",
                "ANTHROPIC_BASE_URL": f"https://localhost:{server.port}", "NODE_EXTRA_CA_CERTS": str(ca)})  # fmt: skip
            policy = Policy(live=True)
            before = len(server.seen_keys)
            start = time.perf_counter()
            statuses = [run(REGISTRY[c], env, policy).status.value for c in family]
            samples.append(time.perf_counter() - start)
            requests.append(len(server.seen_keys) - before)
    finally:
        server.stop()
    median = statistics.median(samples)
    print(f"{len(family)} network checks ({', '.join(statuses)}), {requests[-1]} requests of {args.delay:g} s each, "
          f"{args.runs} runs")  # fmt: skip
    print(f"family wall time: median {median:.2f} s (min {min(samples):.2f}, max {max(samples):.2f})")
    print(f"sum of the requests: {requests[-1] * args.delay:.1f} s; ratio to one request: {median / args.delay:.2f}")


if __name__ == "__main__":
    main()
