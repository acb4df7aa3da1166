"""Wall time and peak RSS of a full offline run, beside the floor: a bare pytest run of as many trivial tests.

Both runs have HTML reports on and the same plugins (pytest-html, pytest-metadata), in the same install: by
default a new venv with a wheel of this checkout, as a user has it (--python names another). The home and project are
built from the real Claude Code files in tests/fixtures/. Runs are interleaved (full, --no-mcp-start, console command, floor; repeated). Target: the
--no-mcp-start run at most 1.2x the floor (ratio of medians); the MCP servers' own start-up is reported apart.

    .venv/bin/python bench/bench_run.py [--runs 7] [--state-mb 5]
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

sys.path.insert(0, str(ROOT / "bench"))
import common  # noqa: E402

EXTRA_ENV: dict[str, str] = {}
GC_FREEZE = "import gc\n\n\ndef pytest_collection_finish(session):\n    gc.freeze()\n"


def measure(argv: list[str], cwd: Path) -> tuple[float, float, int]:
    """Seconds, peak RSS (MiB) and exit code of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=common.user_environ(EXTRA_ENV)
    )
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
    parser.add_argument("--src", type=Path, default=ROOT, help="another checkout's src/ and checks/ (a before)")
    parser.add_argument("--state-mb", type=float, default=0,
                        help="grow the home's ~/.claude.json to this many MB of project history, as years of use do")  # fmt: skip
    common.add_python_option(parser)
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="also time --no-mcp-start with gc.freeze() after collection (a change proposed for plugin.py)",
    )
    args = parser.parse_args()
    python = common.user_python(args.python, ROOT)
    common.print_load()
    if args.src != ROOT:
        EXTRA_ENV["PYTHONPATH"] = str(args.src / "src")
        print(f"code from {args.src}")
    work = Path(tempfile.mkdtemp(prefix="preflight-bench-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)  # the fake homes and reports go with the run
    home, project = homes.build(work / "user")
    if args.state_mb:
        homes.grow_state(home, args.state_mb)
        print(f"~/.claude.json grown to {(home / '.claude.json').stat().st_size / 1e6:.1f} MB")
    reports = work / "reports"
    preflight = [
        python, "-m", "pytest", str(args.src / "checks"), "-q", "-p", "no:cacheprovider", "--offline",
        "--home", str(home), "--project", str(project), "-o", f"reports_dir={reports}",
    ]  # fmt: skip
    measure(preflight, ROOT)  # warm the file cache and bytecode
    count = len(json.loads((reports / "claude-preflight.json").read_text())["checks"])

    floor_dir = work / "floor"
    floor_dir.mkdir()
    (floor_dir / "test_trivial.py").write_text("".join(f"def test_{n}():\n    pass\n\n" for n in range(count)))
    floor = [
        python, "-m", "pytest", "test_trivial.py", "-q", "-p", "no:cacheprovider",
        "--html", str(floor_dir / "floor.html"), "--self-contained-html",
    ]  # fmt: skip
    measure(floor, floor_dir)

    cli = [str(Path(python).parent / "claude-preflight"), *preflight[5:]]
    static = [*preflight, "--no-mcp-start"]
    variants = {
        "pytest checks (full, offline)": lambda: measure(preflight, ROOT),
        "pytest checks (--no-mcp-start)": lambda: measure(static, ROOT),
        "claude-preflight (full, offline)": lambda: measure(cli, work),
        f"floor: {count} trivial tests": lambda: measure(floor, floor_dir),
    }
    if args.gc_freeze:
        # pytest's unraisableexception plugin runs gc.collect() at the end; after a freeze it skips the
        # hundred thousand objects every import made.
        (work / "gc_freeze_plugin.py").write_text(GC_FREEZE)
        EXTRA_ENV["PYTHONPATH"] = os.pathsep.join(p for p in (EXTRA_ENV.get("PYTHONPATH"), str(work)) if p)
        frozen = [*static, "-p", "gc_freeze_plugin"]
        variants["pytest checks (--no-mcp-start, gc.freeze)"] = lambda: measure(frozen, ROOT)
    print(f"{count} check results per run, {args.runs} interleaved rounds, HTML report on\n")
    samples = common.interleaved(variants, args.runs, warm=False)
    figures = [summarise(name, got) for name, got in samples.items()]
    (run_s, run_rss), (static_s, _), (cli_s, _), (floor_s, floor_rss) = figures[:4]
    print()
    print(common.ratio_line("run without starting MCP servers (--no-mcp-start)", static_s, floor_s, 1.2))
    print(f"the home's MCP servers' own start-up (full - --no-mcp-start): {(run_s - static_s) * 1000:.0f} ms")
    print(common.ratio_line("full run, MCP servers started", run_s, floor_s))
    print(common.ratio_line("claude-preflight console command (full)", cli_s, floor_s))
    if args.gc_freeze:
        print(common.ratio_line("--no-mcp-start with gc.freeze() after collection", figures[4][0], floor_s, 1.2))
    print(f"peak RSS ratio: {run_rss / floor_rss:.2f}")


if __name__ == "__main__":
    main()
