"""Session checks on a large history: full scan vs `grep -c isApiErrorMessage`, recent-only run, peak RSS.

    python bench/bench_sessions.py [--sessions 5000] [--gb 2] [--keep DIR]

Writes a home with a realistic history (the real records of tests/fixtures/real-claude/transcripts, grown to
sizes spread like real ones: many small sessions, a few large; 2% changed in the last week, the rest 8-180 days
old; some with API errors; a few damaged: torn last line, oversized image, 12 MB), then prints:
  full scan   every transcript scanned (what --all-sessions does), beside grep over the same files (target <= 1.5x)
  recent      the default: `claude-preflight -k sessions` end to end (CLI start included)
  peak RSS    of the scanning process (target < 60 MB whatever the history size)
All of them in one sitting of --runs interleaved rounds (medians), the machine load printed at start.
Files are read from the page cache in every measurement (a warm-up round first).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import transcript_ops  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
import common  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "real-claude" / "transcripts"
SOURCES = ["ok.print-text.jsonl", "ok.print-with-bash-tool-use.jsonl", "err.print-401.jsonl", "err.print-429.jsonl"]


def generate(home: Path, sessions: int, total_bytes: int, seed: int = 7) -> dict[str, int]:
    rng = random.Random(seed)
    projects = home / ".claude" / "projects"
    # Pareto-like sizes: most sessions are small, a few are large; scaled to the total.
    weights = [rng.paretovariate(1.2) for _ in range(sessions)]
    scale = total_bytes / sum(weights)
    sources = {name: (FIXTURES / name).read_bytes() for name in SOURCES}
    attachments = [
        line + b"\n" for line in sources["ok.print-text.jsonl"].splitlines() if b'"type":"attachment"' in line
    ]
    now, counts = time.time(), {"recent": 0, "damaged": 0, "with errors": 0}
    for i in range(sessions):
        project = projects / f"-home-dev-src-project-{i % 40}"
        project.mkdir(parents=True, exist_ok=True)
        name = SOURCES[0 if rng.random() < 0.6 else 1 if rng.random() < 0.9 else rng.choice((2, 3))]
        counts["with errors"] += name.startswith("err")
        path = project / f"{i:08d}-0000-4000-8000-{rng.getrandbits(48):012x}.jsonl"
        size = max(len(sources[name]), min(int(weights[i] * scale), 400_000_000))
        with open(path, "wb", buffering=1 << 20) as out:
            out.write(sources[name])
            written, k = len(sources[name]), 0
            while written < size:
                line = attachments[k % len(attachments)]
                out.write(line)
                written, k = written + len(line), k + 1
        recent = i % 50 == 0
        if recent and i % 500 == 0:  # a few damaged ones among the recent
            counts["damaged"] += 1
            damage = (i // 500) % 3
            if damage == 0:
                transcript_ops.cut(path, {"bytes": 50})
            elif damage == 1:
                transcript_ops.add_image(path, {"format": "png", "width": 3000, "height": 100})
            else:
                transcript_ops.grow(path, {"mb": 12})
        age = rng.uniform(0, 6) if recent else rng.uniform(8, 180)
        os.utime(path, (now - age * 86400, now - age * 86400))
        counts["recent"] += recent
    return counts


def child(code: str) -> tuple[float, float, str]:
    """Run Python code in a fresh process: wall seconds, its peak RSS in MB, its output."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=common.user_environ())
    out = proc.stdout.read() if proc.stdout else ""
    _, _, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss / 1024, out.strip()


SCAN = """
import resource, time
from pathlib import Path
from claude_preflight.env import Env
from claude_preflight.probes import transcripts
env = Env(home=Path({home!r}), project=Path({home!r}))
start = time.perf_counter()
found = transcripts.transcripts(env, 10**7)
scans = transcripts.scans(env, transcripts.recent(env, found, {days}), 1_000_000)
seconds, peak = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
noted = list(transcripts.notable(scans))  # the scans with a finding: counting them makes no Scan for the rest
print(f"{{seconds:.3f}} {{len(scans)}} {{scans.bytes_read}} "
      f"{{sum(e.repeats for s in noted for e in s.errors)}} {{sum(1 for s in noted if s.tail and s.tail.torn)}} "
      f"{{sum(1 for s in noted for i in s.images if max(i.width or 0, i.height or 0) > 2000)}} {{peak:.1f}}")
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--gb", type=float, default=2.0)
    parser.add_argument("--keep", type=Path, help="generate into (or reuse) this directory")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    common.print_load()
    base = args.keep or Path(tempfile.mkdtemp(prefix="preflight-bench-sessions-"))
    home = base / "home"
    try:
        if not (home / ".claude" / "projects").exists():
            start = time.perf_counter()
            counts = generate(home, args.sessions, int(args.gb * 1e9))
            print(
                f"generated {args.sessions} sessions, {args.gb:g} GB in {time.perf_counter() - start:.1f} s: {counts}"
            )
        files = [str(p) for p in (home / ".claude" / "projects").rglob("*.jsonl")]
        total = sum(os.path.getsize(f) for f in files)
        print(f"history: {len(files)} transcripts, {total / 1e9:.2f} GB")

        def grep() -> float:
            start = time.perf_counter()
            subprocess.run(
                ["grep", "-c", "-r", "--include=*.jsonl", "isApiErrorMessage", str(home)], capture_output=True
            )
            return time.perf_counter() - start

        cli = shutil.which("claude-preflight", path=str(Path(sys.executable).parent)) or "claude-preflight"

        def preflight(*extra: str) -> float:
            start = time.perf_counter()
            subprocess.run(
                [cli, "-k", "sessions", "--home", str(home), "--project", str(base), "--offline", "-q", *extra],
                capture_output=True,
                cwd=base,
                env=common.user_environ(),
            )
            return time.perf_counter() - start

        samples = common.interleaved(
            {
                "grep": grep,
                "full scan": lambda: child(SCAN.format(home=str(home), days=0)),
                "recent scan": lambda: child(SCAN.format(home=str(home), days=7)),
                "default run": preflight,
                "--all-sessions run": lambda: preflight("--all-sessions"),
            },
            args.runs,
        )
        grep_s = common.median(samples["grep"])
        full = samples["full scan"]
        scan_s = common.median(float(r[2].split()[0]) for r in full)
        _, n, read, errors, torn, images, _ = full[-1][2].split()
        print(
            f"full scan: {int(n)} transcripts ({int(read) / 1e9:.2f} GB read); "
            f"{errors} error lines, {torn} torn, {images} oversized images"
        )
        print(common.ratio_line("full scan (in process)", scan_s, grep_s, 1.5) + "  [floor: grep -c -r]")
        recent = samples["recent scan"]
        print(
            f"recent only (7 days) scan: {common.median(float(r[2].split()[0]) for r in recent):.2f} s "
            f"over {recent[-1][2].split()[1]} transcripts"
        )
        print(
            common.ratio_line("claude-preflight -k sessions (default)", common.median(samples["default run"]), grep_s)
        )
        print(
            common.ratio_line(
                "claude-preflight -k sessions --all-sessions", common.median(samples["--all-sessions run"]), grep_s, 1.5
            )
        )
        peak = max(float(r[2].split()[6]) for r in full)
        print(f"peak RSS of the scanning process when its scan is done: {peak:.0f} MB (target < 60)")
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
