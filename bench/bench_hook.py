"""`claude-preflight hook` as Claude Code runs it at session start: prints the wall time of each run (budget 5 s).

    python bench/bench_hook.py [--runs 5]

Over a realistic damaged home from tests/homes.py (its findings are printed once), a process per run, as Claude Code
starts one; the time includes the interpreter's start and the imports.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import homes  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home, project = homes.build(Path(tmp) / "d", damaged=True)
        stdin = json.dumps({"session_id": "bench", "cwd": str(project), "source": "startup"})
        times, out = [], ""
        for _ in range(args.runs):
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "claude_preflight", "hook", "--home", str(home)],
                input=stdin, capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            times.append(time.perf_counter() - start)
            out = done.stdout
        lines = json.loads(out)["hookSpecificOutput"]["additionalContext"].splitlines()[1:] if out else []
        print(f"{len(lines)} finding(s): " + "; ".join(line.split(":")[0] for line in lines))
        print(f"hook wall time over {args.runs} runs: median {statistics.median(times):.2f} s, max {max(times):.2f} s")


if __name__ == "__main__":
    main()
