"""--fix: backups are byte-identical, repaired files parse, a second run changes nothing, live sessions are left alone."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from caserunner import CASES, build_env, evaluate, load, materialise, remove

from claude_preflight.policy import Policy
from claude_preflight.probes.sessions import process_start

SESSION = "11111111-0000-4000-8000-000000000001"
PROJECT = "home/.claude/projects/-home-dev-src-p"


@pytest.fixture
def case_root(request):
    case = load(CASES / request.param)
    root = materialise(case)
    yield case, root
    remove(root)


def run(case, root, check: str, fix: bool = True, real_proc: bool = False) -> dict[str, dict]:
    env = build_env(case, root)
    if real_proc:  # this machine's /proc, where the live process is
        env = dataclasses.replace(env, sysroot=Path("/"))
    return evaluate(check, env, Policy(fix=fix))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): digest(p) for p in sorted(root.rglob("*")) if p.is_file()}


def backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".preflight-backup-*"))


def assert_every_line_parses(path: Path) -> list[dict]:
    data = path.read_bytes()
    assert data.endswith(b"\n")
    return [json.loads(line) for line in data.splitlines()]


def assert_second_run_changes_nothing(case, root, check: str) -> dict[str, dict]:
    before = tree(root)
    results = run(case, root, check)
    assert tree(root) == before
    return results


@pytest.mark.parametrize("case_root", ["sessions.transcript-damage/torn-last-line"], indirect=True)
def test_torn_last_line_is_dropped_after_a_backup(case_root):
    case, root = case_root
    transcript = root / PROJECT / f"{SESSION}.jsonl"
    transcript.chmod(0o600)
    original = transcript.read_bytes()

    results = run(case, root, "sessions.transcript-damage")

    assert results["torn-line"]["status"] == "ok", results["torn-line"]["text"]
    [backup] = backups(transcript)
    assert backup.read_bytes() == original
    assert f"backup: {backup}" in results["torn-line"]["text"]
    assert "dropped the torn last line (457 bytes)" in results["torn-line"]["text"]
    assert transcript.read_bytes() == original[: original.rfind(b"\n") + 1]
    assert_every_line_parses(transcript)
    assert oct(transcript.stat().st_mode & 0o777) == oct(0o600)
    again = assert_second_run_changes_nothing(case, root, "sessions.transcript-damage")
    assert again["torn-line"]["status"] == "ok" and "none in 1 recent session" in again["torn-line"]["text"]


@pytest.mark.parametrize("case_root", ["sessions.transcript-damage/png-3000x100"], indirect=True)
def test_oversized_image_becomes_a_note(case_root):
    case, root = case_root
    transcript = root / PROJECT / f"{SESSION}.jsonl"
    original = transcript.read_bytes()

    results = run(case, root, "sessions.transcript-damage")

    assert results["image"]["status"] == "ok", results["image"]["text"]
    assert "replaced 1 image(s) (3000x100 px) with a note" in results["image"]["text"]
    [backup] = backups(transcript)
    assert backup.read_bytes() == original
    records = assert_every_line_parses(transcript)
    last = records[-1]["message"]["content"]
    assert last[0] == {"type": "text", "text": "what is in this screenshot?"}
    assert last[1]["type"] == "text" and "3000x100 px is over the API's 2000 px limit" in last[1]["text"]
    # Every other line is byte-for-byte what it was.
    assert transcript.read_bytes().splitlines()[:-1] == original.splitlines()[:-1]
    assert_second_run_changes_nothing(case, root, "sessions.transcript-damage")


@pytest.mark.parametrize("case_root", ["sessions.index/stale-after-sigkill"], indirect=True)
def test_index_is_rebuilt_from_the_transcripts(case_root):
    case, root = case_root
    index = root / PROJECT / "sessions-index.json"
    original = index.read_bytes()
    kept_entry = json.loads(original)["entries"][0]

    results = run(case, root, "sessions.index")

    assert results["-home-dev-src-p"]["status"] == "ok", results["-home-dev-src-p"]["text"]
    assert "2 session(s) listed: 1 added, 1 stale removed" in results["-home-dev-src-p"]["text"]
    [backup] = backups(index)
    assert backup.read_bytes() == original
    document = json.loads(index.read_text())
    entries = {e["sessionId"]: e for e in document["entries"]}
    assert set(entries) == {SESSION, "22222222-0000-4000-8000-000000000002"}
    assert entries[SESSION] == kept_entry
    added = entries["22222222-0000-4000-8000-000000000002"]
    assert added["projectPath"] == "/home/dev/src/p-err/401" and added["messageCount"] == 2
    assert added["created"] == "2026-11-22T08:11:49.564Z" and added["isSidechain"] is False
    again = assert_second_run_changes_nothing(case, root, "sessions.index")
    assert again["-home-dev-src-p"]["status"] == "ok"


@pytest.mark.parametrize("case_root", ["sessions.transcript-damage/torn-last-line"], indirect=True)
def test_a_session_held_by_a_live_process_is_left_alone(case_root):
    case, root = case_root
    holder = subprocess.Popen(["sleep", "60"], start_new_session=True)  # stands in for the claude holding it
    try:
        registry = root / "home" / ".claude" / "sessions" / f"{holder.pid}.json"
        registry.parent.mkdir(parents=True)
        start = process_start(dataclasses.replace(build_env(case, root), sysroot=Path("/")), holder.pid)
        assert start
        registry.write_text(json.dumps({"pid": holder.pid, "sessionId": SESSION, "procStart": start}))
        before = tree(root)

        results = run(case, root, "sessions.transcript-damage", real_proc=True)

        assert tree(root) == before
        assert results["torn-line"]["status"] == "warn"
        assert "not repaired: a running Claude Code process has this session open" in results["torn-line"]["text"]
    finally:
        os.killpg(holder.pid, 9)
        holder.wait()
    # Once that process is gone, the same run repairs it.
    assert run(case, root, "sessions.transcript-damage", real_proc=True)["torn-line"]["status"] == "ok"


@pytest.mark.parametrize("case_root", ["sessions.transcript-damage/torn-last-line"], indirect=True)
def test_without_fix_nothing_is_written(case_root):
    case, root = case_root
    before = tree(root)
    results = run(case, root, "sessions.transcript-damage", fix=False)
    assert results["torn-line"]["status"] == "warn"
    assert tree(root) == before
