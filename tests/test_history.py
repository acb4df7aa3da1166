"""The one walk of ~/.claude/projects, its compact listing, the compact scans and records.dataclass."""

from __future__ import annotations

import dataclasses
import os
import pickle
import shutil
from pathlib import Path

import pytest

from claude_preflight.env import Env
from claude_preflight.probes import disk, history, permissions, transcripts
from claude_preflight.records import dataclass, field

FIXTURES = Path(__file__).parent / "fixtures" / "real-claude" / "transcripts"
SESSION = "ba05e2af-f266-4977-a803-495d0eb5ec50"


def make_history(home: Path) -> Path:
    projects = home / ".claude" / "projects"
    for n, name in enumerate(["-home-a", "-home-b"]):
        (projects / name / SESSION / "subagents").mkdir(parents=True)
        shutil.copyfile(FIXTURES / "err.print-401.jsonl", projects / name / f"{SESSION[:-1]}{n}.jsonl")
        shutil.copyfile(FIXTURES / "ok.print-text.jsonl", projects / name / "not a uuid é.jsonl")
        shutil.copyfile(FIXTURES / "ok.print-text.jsonl", projects / name / SESSION / "subagents" / "agent-1.jsonl")
        (projects / name / "notes.txt").write_text("x")
    os.utime(projects / "-home-a" / "not a uuid é.jsonl", (1_000_000, 1_000_000))
    return projects


def test_the_listing_matches_the_tree(tmp_path):
    projects = make_history(tmp_path)
    env = Env(home=tmp_path, project=tmp_path)
    found = transcripts.transcripts(env, 10_000)
    expected = sorted(p for p in projects.glob("*/*.jsonl"))
    assert sorted(t.path for t in found) == expected
    for transcript in found:
        info = transcript.path.stat()
        assert (transcript.size, transcript.mtime, transcript.mode) == (info.st_size, info.st_mtime, info.st_mode)
        assert transcript.session_id == transcript.path.name[: -len(".jsonl")]
        assert transcript == transcripts.Transcript(
            transcript.path, transcript.session_id, transcript.project_dir, info.st_size, info.st_mtime, info.st_mode
        )
    newest_first = [t.mtime for t in transcripts.recent(env, found, 7)]
    assert newest_first == sorted(newest_first, reverse=True)
    assert len(transcripts.recent(env, found, 0)) == len(expected)
    assert len(transcripts.recent(env, found, 7)) == len(expected) - 1  # the one from 1970 is old


def test_every_family_reads_the_one_walk(tmp_path, monkeypatch):
    make_history(tmp_path)
    env = Env(home=tmp_path, project=tmp_path)
    listed: list[Path] = []
    named, entries = Env.named_entries, Env.entries

    def count_named(directory):
        listed.append(Path(directory))
        return named(directory)

    def count_entries(self, directory):
        listed.append(Path(directory))
        return entries(self, directory)

    monkeypatch.setattr(Env, "named_entries", staticmethod(count_named))
    monkeypatch.setattr(Env, "entries", count_entries)
    found = transcripts.transcripts(env, 10_000)
    history_facts = disk.session_history(env, 30, 10_000)
    ownership = permissions.foreign_owned(env, env.config_dir, 10_000)
    assert len(listed) == len(set(listed)), "a directory of the history was listed twice"
    all_jsonl = list((tmp_path / ".claude" / "projects").rglob("*.jsonl"))
    assert history_facts.sessions == len(all_jsonl) and history_facts.old_sessions == 1
    assert history_facts.total_bytes == sum(
        p.stat().st_size for p in (tmp_path / ".claude" / "projects").rglob("*") if p.is_file()
    )
    assert ownership.scanned == sum(1 for _ in (tmp_path / ".claude").rglob("*"))
    assert len(found) == 4


def test_the_listing_keeps_a_walk_limit(tmp_path):
    make_history(tmp_path)
    env = Env(home=tmp_path, project=tmp_path)
    walked = history.history(env, 3)
    assert walked.truncated and walked.scanned == 3


def test_only_the_chosen_transcripts_travel_to_a_worker(tmp_path):
    make_history(tmp_path)
    env = Env(home=tmp_path, project=tmp_path)
    found = transcripts.transcripts(env, 10_000)
    view = transcripts.recent(env, found, 7)[1:2]
    copied = pickle.loads(pickle.dumps(view))
    assert list(copied) == list(view) and len(copied.base) == 1


def test_clean_scans_are_kept_small_and_read_back_the_same(tmp_path):
    make_history(tmp_path)
    env = Env(home=tmp_path, project=tmp_path)
    found = transcripts.recent(env, transcripts.transcripts(env, 10_000), 0)
    whole = [transcripts.scan(env, t, 1_000_000) for t in found]
    compact = transcripts.scans(env, found, 1_000_000)
    assert list(compact) == whole and compact == whole
    assert len(compact._kept) == sum(1 for s in whole if s.errors or s.images or s.long_lines or s.problem)


def test_the_session_rules_give_the_same_results_over_compact_scans(tmp_path):
    """The rules read a ScanList's kept scans and size column only: the same verdicts and texts as over every Scan."""
    from claude_preflight import signatures
    from claude_preflight.rules import sessions as rules

    make_history(tmp_path)
    project = next((tmp_path / ".claude" / "projects").iterdir())
    with open(project / f"{SESSION[:-1]}9.jsonl", "ab") as torn:  # a torn last line, and large
        torn.write((FIXTURES / "ok.print-text.jsonl").read_bytes() + b'{"type":"user","mess')
    (project / f"{SESSION[:-1]}8.jsonl").write_bytes((FIXTURES / "ok.print-text.jsonl").read_bytes() * 4)  # clean
    env = Env(home=tmp_path, project=tmp_path)
    found = transcripts.recent(env, transcripts.transcripts(env, 10_000), 0)
    whole = [transcripts.scan(env, t, 1_000_000) for t in found]
    compact = transcripts.scans(env, found, 1_000_000)
    sizes = sorted(t.size for t in found)
    limits = rules.Limits(sizes[len(sizes) // 2], 1_000_000, 2000)  # clean transcripts over the size limit too
    for kind in rules.DAMAGE_KINDS:
        assert rules.evaluate_damage(kind, compact, limits, [], 0, False) == rules.evaluate_damage(
            kind, whole, limits, [], 0, False
        )
    table = signatures.table()
    verdicts = []
    for cause in signatures.transcript_causes():
        verdict = rules.evaluate_signatures(cause, compact, table, 2, 0)
        assert verdict == rules.evaluate_signatures(cause, whole, table, 2, 0)
        verdicts.append(verdict.status.value)
    size_kind = next(k for k in rules.DAMAGE_KINDS if k.id == "size")
    assert f"{SESSION[:-1]}8" in "\n".join(rules.evaluate_damage(size_kind, compact, limits, [], 0, False).evidence)
    assert "warn" in verdicts  # the 401 lines were found through the kept scans


@dataclass(frozen=True)
class Fact:
    """A fact."""

    name: str
    size: int = 0
    seen: list = field(default_factory=list, compare=False)


@dataclass
class Loose:
    a: int = 1


def test_records_behave_like_dataclasses():
    fact = Fact("a", 2)
    assert fact == Fact("a", 2, ["x"]) and fact != Fact("a", 3) and hash(fact) == hash(Fact("a", 2))
    assert repr(fact) == "Fact(name='a', size=2, seen=[])"
    assert dataclasses.replace(fact, size=5) == Fact("a", 5) and dataclasses.asdict(fact)["size"] == 2
    assert [f.name for f in dataclasses.fields(Fact)] == ["name", "size", "seen"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        fact.size = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        Fact()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Fact("a", nope=1)  # type: ignore[call-arg]
    assert pickle.loads(pickle.dumps(fact)) == fact
    loose = Loose()
    loose.a = 4
    assert loose == Loose(4) and Loose.__hash__ is None


def test_scan_workers_end_at_the_checks_timeout(tmp_path, monkeypatch):
    """The session checks pass their timeout down to the parallel scan, whose workers are killed and reaped at it
    (test_workers): before, they had no deadline, and a check that timed out left them scanning."""
    from claude_preflight import workers
    from claude_preflight.policy import Policy

    make_history(tmp_path)
    env = Env(home=tmp_path, project=tmp_path)
    asked = []

    def share_out(self, function, common, tasks, processes, timeout=None):
        asked.append(timeout)
        return workers.Sharing(function, common, tasks, 1, timeout)  # this process alone

    monkeypatch.setattr(transcripts, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(Env, "share_out", share_out)
    transcripts.recent_scans(env, Policy.from_strings({"check_timeout_s": "7"}))
    assert asked == [7.0]
