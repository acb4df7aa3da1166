import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the helpers in tests/ (caserunner)

CLAUDE_VERSION = "2.1.332"


@pytest.fixture(scope="session")
def real_claude() -> Path:
    """The real Claude Code CLAUDE_VERSION from the npm registry (a 381 MB native binary), installed once into a cache
    folder and reused: $PREFLIGHT_CLAUDE_CACHE, or ~/.cache/claude-preflight/."""
    cache = (
        Path(os.environ.get("PREFLIGHT_CLAUDE_CACHE") or Path.home() / ".cache" / "claude-preflight")
        / f"claude-code-{CLAUDE_VERSION}"
    )
    binary = cache / "node_modules" / ".bin" / "claude"
    if not binary.exists():
        npm = shutil.which("npm")
        if not npm:
            pytest.skip("npm is not installed, so the real Claude Code cannot be fetched here")
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--prefix", str(cache), "--no-audit", "--no-fund", "--loglevel=error",
                        f"@anthropic-ai/claude-code@{CLAUDE_VERSION}"], check=True, timeout=900)  # fmt: skip
    return binary


@pytest.fixture(autouse=True)
def _processes_may_start_again():
    """A run that ended (or was interrupted) in this process stops new children; each test is a new run."""
    from claude_preflight import children

    children.reset()
