"""--fix: backups are byte-identical, repaired files parse, a second run changes nothing, live sessions are left alone."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
import transcript_ops
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


def _pad(transcript: Path, megabytes: int) -> bytes:
    """Put `megabytes` of ordinary records before the transcript's lines, so that rewriting it takes a while."""
    filler = (json.dumps({"type": "user", "message": {"role": "user", "content": "x" * 1000}}) + "\n").encode()
    original = filler * (megabytes * 1000) + transcript.read_bytes()
    transcript.write_bytes(original)
    return original


@pytest.mark.parametrize("case_root", ["sessions.transcript-damage/png-3000x100"], indirect=True)
def test_a_record_appended_during_the_repair_is_never_lost(case_root):
    """A writer with no registry entry appends while the repair writes its new copy: the repair sees the change
    and leaves the file alone, so every record the writer wrote is in the transcript afterwards."""
    import threading
    import time

    case, root = case_root
    transcript = root / PROJECT / f"{SESSION}.jsonl"
    _pad(transcript, 40)
    written, stop = [], threading.Event()

    def writer():
        while not list(transcript.parent.glob("*.preflight-tmp")) and not stop.is_set():
            time.sleep(0.001)  # start appending once the repair is writing its new copy
        n = 0
        while not stop.is_set():
            fd = os.open(transcript, os.O_WRONLY | os.O_APPEND)  # as Node's appendFileSync: by path, each time
            os.write(fd, (json.dumps({"type": "user", "writer": n}) + "\n").encode())
            os.close(fd)
            written.append(n)
            n += 1
            stop.wait(0.002)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        result = run(case, root, "sessions.transcript-damage")["image"]
    finally:
        stop.set()
        thread.join()
    text = transcript.read_text()
    found = {json.loads(line)["writer"] for line in text.splitlines() if '"writer"' in line}
    assert written and found == set(written), f"lost {len(set(written) - found)} of {len(written)} records"
    assert "changed while it was being repaired" in result["text"] and "left as it was" in result["text"]
    assert backups(transcript) == []  # nothing was changed, so no backup is left behind
    assert not list(transcript.parent.glob("*.preflight-tmp"))
    for saved in backups(transcript):  # a kept backup is a complete copy of some earlier state of the file
        assert saved.stat().st_size >= 40 * 1000 * 1000


@pytest.mark.parametrize("case_root", ["sessions.transcript-damage/torn-last-line"], indirect=True)
def test_a_live_session_is_left_alone_under_a_sysroot_too(case_root):
    """--sysroot simulates another machine's /proc; which processes are alive is still this machine's question."""
    case, root = case_root
    holder = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        registry = root / "home" / ".claude" / "sessions" / f"{holder.pid}.json"
        registry.parent.mkdir(parents=True)
        start = process_start(dataclasses.replace(build_env(case, root), sysroot=Path("/")), holder.pid)
        registry.write_text(json.dumps({"pid": holder.pid, "sessionId": SESSION, "procStart": start}))
        before = tree(root)
        results = run(case, root, "sessions.transcript-damage")  # the case's own (empty) sysroot
        assert tree(root) == before
        assert "a running Claude Code process has this session open" in results["torn-line"]["text"]
    finally:
        os.killpg(holder.pid, 9)
        holder.wait()


def test_ctrl_c_in_the_middle_of_a_repair_leaves_no_temp_file_and_no_partial_backup(tmp_path):
    import signal
    import sys
    import time

    import homes
    from test_plugin import CHECKS

    home, project = homes.build(tmp_path / "fixing")
    [transcript] = (home / ".claude" / "projects").glob("*/00000001-*.jsonl")
    # A 3000 px image at the end: --fix rewrites the whole file.
    transcript_ops.OPS["image"](transcript, {"format": "png", "width": 3000, "height": 100})
    original = _pad(transcript, 300)
    argv = [sys.executable, "-m", "pytest", str(CHECKS), "-p", "claude_preflight.plugin", "-p", "no:cacheprovider",
            "--home", str(home), "--project", str(project), "-o", f"reports_dir={tmp_path / 'reports'}",
            "--fix", "-k", "transcript"]  # fmt: skip
    run_ = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not list(transcript.parent.glob("*.preflight-*")) and time.monotonic() < deadline and run_.poll() is None:
        time.sleep(0.005)
    run_.send_signal(signal.SIGINT)
    output = run_.communicate(timeout=60)[0].decode()
    leftovers = list(transcript.parent.glob("*.preflight-tmp"))
    assert leftovers == [], output[-1500:]
    for saved in backups(transcript):
        assert saved.read_bytes() == original  # a backup exists only once it is complete
    assert transcript.read_bytes() == original or b"image removed by claude-preflight" in transcript.read_bytes()


def test_every_repairable_damage_kind_has_its_repair_and_no_other():
    from claude_preflight import repairs
    from claude_preflight.rules.sessions import DAMAGE_KINDS

    assert {kind.id for kind in DAMAGE_KINDS if kind.repairable} == set(repairs.REPAIRS)
