"""Headless Chromium (Debian's `chromium`) for the report tests: screenshots, the DOM after scripts ran, PDF prints.

Each call gets a fresh profile directory and no network services; .ci/run installs chromium, and with
PREFLIGHT_REQUIRE_CHROMIUM=1 (set there) a missing browser fails the tests instead of skipping them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars"]  # fmt: skip
NO_SCRIPTS = '<meta http-equiv="Content-Security-Policy" content="script-src \'none\'">'


def find() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("PREFLIGHT_REQUIRE_CHROMIUM"):
        pytest.fail("chromium is not installed (Debian: apt-get install chromium); .ci/run installs it")
    pytest.skip("chromium is not installed (Debian: apt-get install chromium)")


def run(page: Path, *args: str, width: int = 1400, height: int = 1800) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="preflight-chromium-") as profile:
        return subprocess.run(
            [find(), *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}", *args, page.as_uri()],
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip


def screenshot(page: Path, png: Path, width: int, height: int = 1800) -> Path:
    run(page, f"--screenshot={png}", width=width, height=height)
    return png


def dom(page: Path, width: int = 1400) -> str:
    """The document after its scripts (and any injected ones) ran, with time for image errors to fire."""
    return run(page, "--virtual-time-budget=5000", "--dump-dom", width=width).stdout


def pdf(page: Path, out: Path) -> Path:
    run(page, "--no-pdf-header-footer", f"--print-to-pdf={out}")
    return out


def without_scripts(page: Path, out: Path) -> Path:
    """A copy that no script may run in (as mail and ticket previews show it): a CSP that forbids every script."""
    text = page.read_text(encoding="utf-8")
    out.write_text(text.replace("<head>", "<head>" + NO_SCRIPTS, 1), encoding="utf-8")
    return out
