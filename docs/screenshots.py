"""Retake the README's screenshots from real runs: docs/report.png (1400 px), docs/report-800.png and docs/fleet.png.

    python docs/screenshots.py            # needs Chromium (Debian: apt-get install chromium)

Three runs of the suite over homes built by tests/homes.py (a healthy one and two damaged ones, as three images
of a CI matrix would make), the HTML report of a damaged one, and the fleet view of all three; each page is
rendered by headless Chromium.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent / "tests"))

import homes  # noqa: E402  (tests/homes.py builds the fake homes)

RUNS = [("python:3.12-slim", False), ("mcr.microsoft.com/devcontainers/typescript-node:20", True), ("dev-box-7", True)]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--disable-quic",
                  "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def preflight(*args: str, cwd: Path, env: dict | None = None) -> None:
    run_env = os.environ | (env or {})
    subprocess.run(
        [sys.executable, "-m", "claude_preflight.cli", *args], cwd=cwd, env=run_env, timeout=300, check=False
    )


def healthy_host() -> dict:
    """The healthy host has a (made-up, well-formed) key and, when tests/ has fetched it, the real Claude Code."""
    claude = Path.home() / ".cache" / "claude-preflight" / "claude-code-2.1.330" / "node_modules" / ".bin"
    path = f"{claude}:{os.environ['PATH']}" if claude.exists() else os.environ["PATH"]
    return {"ANTHROPIC_API_KEY": "sk-ant-api03-" + "x" * 80 + "AA", "PATH": path}


def screenshot(page: Path, png: Path, size: str, work: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not chromium:
        sys.exit("Chromium is not installed (Debian: apt-get install chromium)")
    subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={work / 'chromium'}", f"--window-size={size}",
         f"--screenshot={png}", page.as_uri()],
        timeout=120, check=True, capture_output=True,
    )  # fmt: skip
    print(f"wrote {png}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="preflight-shots-") as tmp:
        work = Path(tmp)
        reports = work / "reports"
        for n, (label, damaged) in enumerate(RUNS):
            home, project = homes.build(work / f"host{n}", damaged=damaged)
            extra = [] if damaged else ["--no-mcp-start"]
            preflight("--home", str(home), "--project", str(project), "--offline", "--host-label", label, *extra,
                      "--json", str(reports / f"host{n}.json"), "--html", str(reports / f"host{n}.html"), cwd=work,
                      env=None if damaged else healthy_host())  # fmt: skip
        preflight("merge", str(reports), "--html", str(work / "fleet.html"), cwd=work)
        screenshot(reports / "host1.html", DOCS / "report.png", "1400,1500", work)
        screenshot(reports / "host1.html", DOCS / "report-800.png", "800,1500", work)
        screenshot(work / "fleet.html", DOCS / "fleet.png", "1280,900", work)


if __name__ == "__main__":
    main()
