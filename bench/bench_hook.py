"""`claude-preflight hook` as Claude Code runs it at session start: p50 and p95 of its wall time.

    python bench/bench_hook.py [--runs 21] [--python PATH]

Over a realistic damaged home from tests/homes.py (its findings are printed once), a process per run, as Claude Code
starts one; the time includes the interpreter's start and the imports. Targets: p50 <= 0.3 s, p95 <= 0.5 s (the
hook's own budget is 5 s). The floor beside it is `python -c pass` in the same install.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import homes  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
import common  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the value at or below which `share` of the runs fall."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, -(-int(share * 100) * len(ordered) // 100) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    common.add_python_option(parser)
    args = parser.parse_args()
    python = common.user_python(args.python, ROOT)
    common.print_load()
    with tempfile.TemporaryDirectory() as tmp:
        home, project = homes.build(Path(tmp) / "d", damaged=True)
        stdin = json.dumps({"session_id": "bench", "cwd": str(project), "source": "startup"})
        out = ""

        def hook() -> float:
            nonlocal out
            start = time.perf_counter()
            done = subprocess.run(
                [python, "-m", "claude_preflight", "hook", "--home", str(home)],
                input=stdin, capture_output=True, text=True, timeout=60, env=common.user_environ(),
            )  # fmt: skip
            out = done.stdout
            return time.perf_counter() - start

        def bare() -> float:
            start = time.perf_counter()
            subprocess.run([python, "-c", "pass"], check=True, env=common.user_environ())
            return time.perf_counter() - start

        samples = common.interleaved({"hook": hook, "python -c pass": bare}, args.runs)
        lines = json.loads(out)["hookSpecificOutput"]["additionalContext"].splitlines()[1:] if out else []
        print(f"{len(lines)} finding(s): " + "; ".join(line.split(":")[0] for line in lines))
        times = samples["hook"]
        print(
            f"hook wall time over {len(times)} runs: p50 {percentile(times, 0.5):.3f} s (target <= 0.3), "
            f"p95 {percentile(times, 0.95):.3f} s (target <= 0.5), max {max(times):.3f} s"
        )
        print(f"floor (python -c pass): p50 {percentile(samples['python -c pass'], 0.5):.3f} s")


if __name__ == "__main__":
    main()
