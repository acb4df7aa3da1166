"""Wall time and peak RSS of a full offline run, beside the floor: a bare pytest run of as many trivial tests.

Both runs have HTML reports on and the same plugins (pytest-html, pytest-metadata). The home and project are
built from the real Claude Code files in tests/fixtures/. Target: ratio of medians at most 1.5.

    .venv/bin/python bench/bench_run.py [--runs 7]
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import homes  # noqa: E402 - the same realistic home the self-tests use


def measure(argv: list[str], cwd: Path) -> tuple[float, float, int]:
    """Seconds, peak RSS (MiB) and exit code of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def summarise(name: str, samples: list[tuple[float, float, int]]) -> tuple[float, float]:
    seconds = statistics.median(s for s, _, _ in samples)
    rss = max(r for _, r, _ in samples)
    print(f"{name:<34} median {seconds * 1000:7.0f} ms   peak RSS {rss:6.1f} MiB   exit {samples[-1][2]}")
    return seconds, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="preflight-bench-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)  # the fake homes and reports go with the run
    home, project = homes.build(work / "user")
    reports = work / "reports"
    preflight = [
        sys.executable, "-m", "pytest", str(ROOT / "checks"), "-q", "-p", "no:cacheprovider", "--offline",
        "--home", str(home), "--project", str(project), "-o", f"reports_dir={reports}",
    ]  # fmt: skip
    measure(preflight, ROOT)  # warm the file cache and bytecode
    count = len(json.loads((reports / "claude-preflight.json").read_text())["checks"])

    floor_dir = work / "floor"
    floor_dir.mkdir()
    (floor_dir / "test_trivial.py").write_text("".join(f"def test_{n}():\n    pass\n\n" for n in range(count)))
    floor = [
        sys.executable, "-m", "pytest", "test_trivial.py", "-q", "-p", "no:cacheprovider",
        "--html", str(floor_dir / "floor.html"), "--self-contained-html",
    ]  # fmt: skip
    measure(floor, floor_dir)

    cli = [str(Path(sys.executable).parent / "claude-preflight"), *preflight[5:]]
    print(f"{count} check results per run, {args.runs} runs each, HTML report on\n")
    run_s, run_rss = summarise("pytest checks (full, offline)", [measure(preflight, ROOT) for _ in range(args.runs)])
    static = [*preflight, "--no-mcp-start"]
    static_s, _ = summarise("pytest checks (--no-mcp-start)", [measure(static, ROOT) for _ in range(args.runs)])
    cli_s, _ = summarise("claude-preflight (full, offline)", [measure(cli, work) for _ in range(args.runs)])
    floor_s, floor_rss = summarise(
        f"floor: {count} trivial tests", [measure(floor, floor_dir) for _ in range(args.runs)]
    )
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("note: PYTHONDONTWRITEBYTECODE is set here, so every run compiles every module from source")
    print(f"\nratio pytest checks / floor:    {run_s / floor_s:.2f} (target <= 1.5)")
    print(f"ratio claude-preflight / floor: {cli_s / floor_s:.2f}")
    print(
        f"ratio without starting the home's MCP servers (their start-up is check work, see bench_mcp.py): "
        f"{static_s / floor_s:.2f}"
    )
    print(f"peak RSS ratio:                 {run_rss / floor_rss:.2f}")


if __name__ == "__main__":
    main()
