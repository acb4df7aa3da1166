"""`claude-preflight diagnose` on a large log: prints seconds and MB/s (target: 100 MB in a few seconds).

    python bench/bench_diagnose.py [--mb 100]

The log is ordinary build/server output with a handful of real crash lines spread through it.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = "the server request started finished compiling module webpack info debug user path file GET POST 200 ms".split()
CRASHES = ["API Error: 429 rate_limit_error", "Error: ENOSPC: no space left on device, write", "Killed"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=100)
    args = parser.parse_args()
    rng = random.Random(3)
    block = "\n".join(" ".join(rng.choice(WORDS) for _ in range(14)) for _ in range(5000)) + "\n"
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "crash.log"
        with open(log, "w") as out:
            written, i = 0, 0
            while written < args.mb * 1e6:
                out.write(block)
                written += len(block)
                if i % 100 == 0:
                    out.write(CRASHES[(i // 100) % len(CRASHES)] + "\n")
                i += 1
        size = log.stat().st_size
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "claude_preflight.cli", "diagnose", str(log)], capture_output=True, text=True
        )
        seconds = time.perf_counter() - start
        print(
            f"diagnose over {size / 1e6:.0f} MB: {seconds:.2f} s ({size / 1e6 / seconds:.0f} MB/s), exit {done.returncode}"
        )
        print("\n".join(line for line in done.stdout.splitlines() if line and not line.startswith(" ")))


if __name__ == "__main__":
    main()
