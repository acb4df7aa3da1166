"""`claude-preflight diagnose` on big inputs: figure, floor and ratio from interleaved runs.

    python bench/bench_diagnose.py [--mb 1000] [--runs 7] [--storm-mb 50] [--line-mb 400]

1. An ordinary build/server log of --mb MB with a few real crash lines: `diagnose LOG` against the floor,
   `grep -E -i -a -c` with every pattern of the signature table (the same patterns; LC_ALL=C), run
   interleaved --runs times (alternating which goes first). Target: ratio of medians <= 2.
2. Linearity: a retry storm (every line a crash line, each with its own timestamp, so no cache helps)
   at storm-mb/2 and storm-mb, and the same storm as Claude Code's terminal prints it (repeating lines);
   MB/s should not fall as the size doubles.
3. One line without a newline of --line-mb MB on standard input, the crash text at its end.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from claude_preflight.diagnose import grep_pattern
from claude_preflight.signatures import raw_patterns

WORDS = "the server request started finished compiling module webpack info debug user path file GET POST 200 ms".split()
CRASHES = ["API Error: 429 rate_limit_error", "Error: ENOSPC: no space left on device, write", "Killed"]
DIAGNOSE = [sys.executable, "-m", "claude_preflight.cli", "diagnose"]


def ordinary_log(path: Path, mb: float) -> None:
    rng = random.Random(3)
    block = "\n".join(" ".join(rng.choice(WORDS) for _ in range(14)) for _ in range(5000)) + "\n"
    with open(path, "w") as out:
        written, i = 0, 0
        while written < mb * 1e6:
            out.write(block)
            written += len(block)
            if i % 100 == 0:
                out.write(CRASHES[(i // 100) % len(CRASHES)] + "\n")
            i += 1


def storm_log(path: Path, mb: float, stamped: bool) -> None:
    with open(path, "w", encoding="utf-8") as out:
        written, i = 0, 0
        while written < mb * 1e6:
            lines = []
            for _ in range(1000):
                stamp = (
                    f"2026-03-0{i % 9 + 1}T{i % 24:02d}:{i % 60:02d}:{i % 61:02d}.{i % 997:03d}Z " if stamped else ""
                )
                lines.append(
                    f"{stamp}  ⎿  API Error (Connection error.) · Retrying in {i % 40} seconds… (attempt {i % 10 + 1}/10)\n"
                )
                lines.append(f"{stamp}    ⎿  TypeError (fetch failed)\n")
                i += 1
            block = "".join(lines)
            out.write(block)
            written += len(block.encode())


def timed(command: list[str], stdin=None) -> float:
    """Wall time; output goes to a pipe, not /dev/null (GNU grep stops at the first match when it sees /dev/null)."""
    start = time.perf_counter()
    subprocess.run(command, stdin=stdin, capture_output=True, check=False)
    return time.perf_counter() - start


def cpu_timed(command: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of a command and its children: CPU time stays honest on a loaded machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = timed(command)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def floor_command(log: Path) -> list[str]:
    args = [a for p in raw_patterns() for a in ("-e", grep_pattern(p))]
    return ["env", "LC_ALL=C", "grep", "-E", "-i", "-a", "-c", *args, str(log)]


def interleaved(log: Path, runs: int) -> None:
    figure, floor = [], []
    for i in range(runs):
        pair = [("figure", DIAGNOSE + [str(log)]), ("floor", floor_command(log))]
        for name, command in pair if i % 2 == 0 else reversed(pair):
            (figure if name == "figure" else floor).append(timed(command))
    size = log.stat().st_size / 1e6
    med_fig, med_floor = statistics.median(figure), statistics.median(floor)
    print(f"ordinary log {size:.0f} MB, {runs} interleaved runs:")
    print(
        f"  figure diagnose : median {med_fig:.2f} s  min {min(figure):.2f}  max {max(figure):.2f}  ({size / med_fig:.0f} MB/s)"
    )
    print(
        f"  floor grep -E -i: median {med_floor:.2f} s  min {min(floor):.2f}  max {max(floor):.2f}  ({size / med_floor:.0f} MB/s)"
    )
    print(f"  ratio (medians) : {med_fig / med_floor:.2f}x  (target <= 2)")


def storms(tmp: Path, mb: float) -> None:
    for stamped in (True, False):
        kind = "timestamped storm" if stamped else "terminal storm"
        for size in (mb / 2, mb):
            log = tmp / f"storm-{stamped}-{size}.log"
            storm_log(log, size, stamped)
            wall, cpu = cpu_timed(DIAGNOSE + [str(log)])
            real = log.stat().st_size / 1e6
            print(f"  {kind:18} {real:6.0f} MB: {wall:6.2f} s wall, {cpu:6.2f} s CPU ({real / cpu:.1f} MB/s of CPU)")
            log.unlink()


def one_line(mb: float) -> None:
    """--line-mb MB without a newline, written to diagnose's stdin by a child process as it reads."""
    writer = (
        "import sys\nblock = b'x' * (1 << 20)\n"
        f"for _ in range({int(mb)}): sys.stdout.buffer.write(block)\n"
        "sys.stdout.buffer.write(b' Error: ENOSPC: no space left on device')\n"
    )
    start = time.perf_counter()
    source = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE)
    done = subprocess.run(DIAGNOSE + ["-", "--json"], stdin=source.stdout, capture_output=True, check=False)
    source.wait()
    seconds = time.perf_counter() - start
    found = b'"disk-full"' in done.stdout
    print(f"  one line of {mb:.0f} MB on stdin: {seconds:.2f} s ({mb / seconds:.0f} MB/s), crash found: {found}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--storm-mb", type=float, default=50)
    parser.add_argument("--line-mb", type=float, default=400)
    args = parser.parse_args()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "ordinary.log"
        ordinary_log(log, args.mb)
        interleaved(log, args.runs)
        log.unlink()
        print("linearity:")
        storms(Path(tmp), args.storm_mb)
        one_line(args.line_mb)


if __name__ == "__main__":
    main()
