"""`claude-preflight merge` over a fleet: prints seconds, peak RSS and output sizes for N hosts.

    python bench/bench_merge.py REPORT.json [--hosts 500]

REPORT.json is one real report (`claude-preflight --json`); each host gets a copy with its own label and a few
statuses changed at random, as a fleet of machines would differ.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("report", type=Path)
    parser.add_argument("--hosts", type=int, default=500)
    args = parser.parse_args()
    base = json.loads(args.report.read_text())
    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as tmp:
        reports = Path(tmp) / "reports"
        reports.mkdir()
        for n in range(args.hosts):
            document = json.loads(json.dumps(base))
            document["host"]["label"] = f"host-{n:04d}"
            for check in rng.sample(document["checks"], k=min(3, len(document["checks"]))):
                check["status"] = rng.choice(["ok", "warn", "fail"])
            (reports / f"host-{n:04d}.json").write_text(json.dumps(document))
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "claude_preflight.cli", "merge", str(reports),
             "--html", f"{tmp}/fleet.html", "--json", f"{tmp}/fleet.json"],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(done.stderr)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        size = sum(p.stat().st_size for p in reports.iterdir())
        print(f"{args.hosts} reports ({size / 1e6:.1f} MB, {len(base['checks'])} results each): merged in "
              f"{seconds:.2f} s, peak RSS {peak:.0f} MB; fleet.html {Path(tmp, 'fleet.html').stat().st_size / 1e6:.1f} MB,"
              f" fleet.json {Path(tmp, 'fleet.json').stat().st_size / 1e6:.1f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
