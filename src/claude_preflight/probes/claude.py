"""Which Claude Code runs here: its version (full installation checks come with the installation family)."""

from __future__ import annotations

import re

from claude_preflight.env import Env

NATIVE_SINCE = (2, 1, 113)  # from this release the npm package ships a native (Bun) binary, not cli.js


def claude_version(env: Env, timeout: float = 5) -> str | None:
    path = env.which("claude")
    if not path:
        return None
    try:
        run = env.run([path, "--version"], timeout=timeout)
    except OSError:
        return None
    match = re.search(r"\d+\.\d+\.\d+\S*", run.stdout)
    return match.group(0) if match else None


def is_native(version: str) -> bool:
    numbers = tuple(int(n) for n in re.findall(r"\d+", version)[:3])
    return numbers >= NATIVE_SINCE
