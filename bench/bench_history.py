"""A whole offline run on a big history, default and --all-sessions, beside `grep -c` over the same transcripts.

    .venv/bin/python bench/bench_history.py --home HOME [--runs 7] [--src DIR]

HOME holds a history (bench_sessions.py --keep writes one). Each round runs, interleaved: grep -c -r over the
transcripts (the floor), the default run (recent sessions only) and the --all-sessions run (both
`pytest checks --offline --no-mcp-start`, HTML report on). Prints medians, the ratios to grep and the peak RSS of
each run, in a wheel install as a user has it (--python names another interpreter). --src runs another
checkout's code (its src/ and checks/), to measure a before beside an after; --before DIR runs another checkout's
--all-sessions run in the same rounds (`git archive REV | tar -x -C DIR` makes one), the fairest comparison on a
machine whose speed drifts between sittings.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import common  # noqa: E402


def measure(argv: list[str], cwd: Path, env: dict | None = None) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, _, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--src", type=Path, default=ROOT)
    parser.add_argument("--before", type=Path, help="a checkout whose --all-sessions run takes turns with this one")
    common.add_python_option(parser)
    args = parser.parse_args()
    python = common.user_python(args.python, ROOT)
    common.print_load()
    projects = args.home / ".claude" / "projects"
    # Counted in a child: a child's peak RSS starts at its parent's RSS when it forks, so this process stays small.
    counting = "import sys, pathlib; s = [p.stat().st_size for p in pathlib.Path(sys.argv[1]).rglob('*.jsonl')]; "
    counting += "print(len(s), sum(s))"
    count, total = map(int, subprocess.check_output([sys.executable, "-c", counting, str(projects)]).split())
    print(f"history: {count} transcripts, {total / 1e9:.2f} GB; code from {args.src}")
    work = Path(tempfile.mkdtemp(prefix="preflight-bench-history-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)  # the reports go with the run

    def run_of(src: Path) -> tuple[list[str], dict]:
        environment = common.user_environ({"PYTHONPATH": str(src / "src")} if src != ROOT else {})
        argv = [
            python, "-m", "pytest", str(src / "checks"), "-q", "-p", "no:cacheprovider", "--offline",
            "--no-mcp-start", "--home", str(args.home), "--project", str(work), "-o", f"reports_dir={work / 'r'}",
        ]  # fmt: skip
        return argv, environment

    run, environment = run_of(args.src)
    grep = ["grep", "-c", "-r", "--include=*.jsonl", "isApiErrorMessage", str(projects)]
    kinds = {"grep -c": (grep, None), "default run": (run, environment)}
    kinds["--all-sessions run"] = ([*run, "--all-sessions"], environment)
    if args.before:
        before, before_environment = run_of(args.before)
        kinds["--all-sessions before"] = ([*before, "--all-sessions"], before_environment)
    for argv, env in kinds.values():
        measure(argv, work, env)  # warm the page cache and bytecode
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in kinds}
    for _ in range(args.runs):
        for name, (argv, env) in kinds.items():
            samples[name].append(measure(argv, work, env))
    floor = statistics.median(s for s, _ in samples["grep -c"])
    for name, got in samples.items():
        seconds = statistics.median(s for s, _ in got)
        rss = max(r for _, r in got)
        print(f"{name:<20} median {seconds:7.2f} s  ratio to grep -c {seconds / floor:5.2f}  peak RSS {rss:6.1f} MiB")


if __name__ == "__main__":
    main()
