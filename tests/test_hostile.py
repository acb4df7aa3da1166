"""Hostile input: a clone of someone else's repository, a damaged home. Whatever is in the files, every check
ends in a clear result of its own (never an internal error), and the other checks are unaffected."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from caserunner import load_checks

from claude_preflight.checking import REGISTRY, run_targets
from claude_preflight.env import Env
from claude_preflight.policy import Policy
from claude_preflight.probes.files import MAX_DEPTH, TooDeep, loads

DEEP = 100_000  # what the issue measured: RecursionError in 4-13 checks


def run_all(env: Env, policy: Policy = Policy(offline=True, mcp_start=False)) -> dict[str, object]:
    """Every check on every target: {"check id/target id": Result}."""
    load_checks()
    return {
        f"{check_id}/{getattr(target, 'id', '-')}": result
        for check_id, spec in sorted(REGISTRY.items())
        for target, result in run_targets(spec, env, policy)
    }


def internal_errors(results: dict) -> list[str]:
    return [f"{key}: {r.summary}" for key, r in results.items() if "internal error" in r.summary]


@pytest.fixture
def world(tmp_path):
    home, project = tmp_path / "home", tmp_path / "project"
    for directory in (home / ".claude" / "sessions", home / ".claude" / "projects" / "-p", project / ".claude"):
        directory.mkdir(parents=True)
    (tmp_path / "tmp").mkdir()
    environ = {"PATH": os.environ["PATH"], "HOME": str(home), "TMPDIR": str(tmp_path / "tmp")}
    return home, project, environ


def env_of(world, **extra: str) -> Env:
    home, project, environ = world
    return Env(home=home, project=project, sysroot=Path("/nonexistent-sysroot"), environ={**environ, **extra})


@pytest.mark.parametrize("shape", ["[" * DEEP + "]" * DEEP, '{"a":' * DEEP + "1" + "}" * DEEP])
def test_json_nested_100000_deep_is_one_clear_fail_per_file(world, shape):
    home, project, _ = world
    claude = home / ".claude"
    files = {
        "config.file/user-state": home / ".claude.json",
        "config.file/user-settings": claude / "settings.json",
        "config.file/project-settings": project / ".claude" / "settings.json",
        "config.file/project-local-settings": project / ".claude" / "settings.local.json",
        "config.file/project-mcp": project / ".mcp.json",
        "sessions.index/-p": claude / "projects" / "-p" / "sessions-index.json",
    }
    for path in files.values():
        path.write_text(shape)
    (claude / "sessions" / "4242.json").write_text(shape)
    (claude / ".credentials.json").write_text(shape)
    transcripts = claude / "projects" / "-p"
    (transcripts / "a.jsonl").write_text('{"type":"user"}\n' + shape + "\n")  # a deep line inside
    (transcripts / "b.jsonl").write_text('{"type":"user"}\n' + shape)  # a deep torn tail
    results = run_all(env_of(world))
    assert internal_errors(results) == []
    for key in files:
        assert results[key].status.value == "fail", key
        assert f"nested deeper than {MAX_DEPTH} levels" in results[key].text(), key
    untouched = [k for k in results if k.startswith(("disk.", "permissions.path", "memory.headroom"))]
    assert untouched and all(results[k].status.value != "fail" for k in untouched)


def test_depth_bound_is_exact():
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(TooDeep):
        loads("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    with pytest.raises(TooDeep):  # deep enough that Python's own parser gives up
        loads(b"[" * DEEP + b"]" * DEEP)


def test_odd_numbers_are_results_not_internal_errors(world):
    home, project, _ = world
    claude = home / ".claude"
    (claude / ".credentials.json").write_text(
        '{"claudeAiOauth": {"accessToken": "sk-ant-oat01-abcdefghijklmnopqrst", "expiresAt": 1' + "0" * 400 + "}}"
    )
    (claude / "sessions" / "4242.json").write_text(
        json.dumps({"pid": 4242, "sessionId": "s1", "cwd": str(project)})[:-1] + ', "startedAt": 1' + "0" * 30 + "}"
    )
    env = env_of(world, CLAUDE_CODE_MAX_RETRIES="9" * 400, MCP_TIMEOUT="²", API_TIMEOUT_MS="1" + "0" * 20)
    results = run_all(env)
    assert internal_errors(results) == []
    timeouts = results["network.timeouts/-"]
    assert timeouts.status.value == "fail" and "CLAUDE_CODE_MAX_RETRIES" in timeouts.text()
    assert "MCP_TIMEOUT='²' is not a whole number" in timeouts.text()
    assert results["network.credentials/-"].status.value == "ok"  # an expiry past any clock: never expires
    killed = results["memory.killed-sessions/-"]
    assert killed.status.value == "warn" and "started ?" in killed.text()
