"""The installation checks against the real Claude Code pinned in conftest.py (the `real_claude` fixture)."""

from __future__ import annotations

from claude_preflight.env import Env
from claude_preflight.outcome import Status
from claude_preflight.probes import install
from claude_preflight.rules.install import evaluate_installations, evaluate_known_bad
from conftest import CLAUDE_VERSION


def test_installation_check_finds_the_real_claude(real_claude, tmp_path):
    env = Env(
        home=tmp_path,
        project=tmp_path,
        environ={"PATH": f"{real_claude.parent}:/usr/bin:/bin", "NPM_CONFIG_PREFIX": str(tmp_path / "none")},
    )
    found = install.installations(env, timeout=30)
    first = found[0]
    assert first.runs and first.version == CLAUDE_VERSION and first.method == "npm-local"
    assert first.real.endswith("node_modules/@anthropic-ai/claude-code/bin/claude.exe")
    result = evaluate_installations([i for i in found if i.path == first.path])
    assert result.status is Status.OK and f"Claude Code {CLAUDE_VERSION} (npm-local)" in result.summary
    facts = install.node_facts(env, first, [], timeout=10)
    assert facts.engines == ">=22.0.0" and facts.engines_from.endswith("claude-code/package.json")
    assert facts.needed_by == ()  # 2.1.332 is the native build
    assert evaluate_known_bad(first, install.known_bad()).status is Status.OK
