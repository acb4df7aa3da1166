"""The streamed transcript scanner: image headers, chunk boundaries, the parallel path."""

from __future__ import annotations

import json
import os
import re
import shutil
import types
from pathlib import Path

import pytest
import transcript_ops
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from claude_preflight.env import Env
from claude_preflight.probes import transcripts

FIXTURES = Path(__file__).parent / "fixtures" / "real-claude" / "transcripts"


@pytest.mark.parametrize("kind", sorted(transcript_ops.IMAGES))
@pytest.mark.parametrize("size", [(1, 1), (3000, 100), (100, 2400), (16383, 16383)])
def test_image_size_reads_the_header(kind, size):
    width, height = size
    if kind == "gif" and max(size) > 65535:
        pytest.skip("GIF sizes are 16 bit")
    assert transcripts.image_size(transcript_ops.IMAGES[kind](width, height)) == size


def test_image_size_of_something_else_is_unknown():
    assert transcripts.image_size(b"not an image at all") == (None, None)
    assert transcripts.image_size(b"\xff\xd8\xff\xe0\x00") == (None, None)  # a JPEG cut before its size


def transcript_at(path: Path) -> transcripts.Transcript:
    info = path.stat()
    return transcripts.Transcript(path, path.stem, path.parent, info.st_size, info.st_mtime, info.st_mode)


@pytest.mark.parametrize("line_limit", [8192, 20_000, 1_000_000])
def test_every_error_line_is_found_whatever_the_chunk_boundaries(tmp_path, line_limit):
    """Small chunks put markers and lines across chunk boundaries; the answer must not change."""
    path = tmp_path / "s.jsonl"
    shutil.copyfile(FIXTURES / "err.print-429.jsonl", path)
    transcript_ops.add_image(path, {"format": "png", "width": 3000, "height": 100})
    env = Env(home=tmp_path, project=tmp_path)
    scan = transcripts.scan(env, transcript_at(path), line_limit)
    # 10 retry notices with one text and the final error: each text once, with how often it was written.
    assert [(e.final, e.repeats) for e in scan.errors] == [(False, 10), (True, 1)]  # in file order
    retries = scan.errors[0]
    assert (retries.since, retries.timestamp) == ("2026-11-22T08:11:52.891Z", "2026-11-22T08:14:19.014Z")
    assert [(i.width, i.height) for i in scan.images] == [(3000, 100)]
    # Lines over the limit (the 38 kB api-request-shape record at the smallest limit) are measured, not parsed.
    expected_long = sum(1 for line in path.read_bytes().splitlines(keepends=True) if len(line) - 1 > line_limit)
    assert len(scan.long_lines) == expected_long


@pytest.mark.parametrize("cpus", [2, 3])
def test_the_parallel_scan_gives_the_serial_answer(tmp_path, monkeypatch, cpus):
    env = Env(home=tmp_path, project=tmp_path)
    found = []
    for i, name in enumerate(sorted(FIXTURES.glob("*.jsonl")) * 3):
        path = tmp_path / f"{i:04d}.jsonl"
        shutil.copyfile(name, path)
        found.append(transcript_at(path))
    serial = transcripts._scan_many(env, found, 1_000_000)
    monkeypatch.setattr(transcripts, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: cpus)
    parallel = transcripts.scans(env, found, 1_000_000)
    assert parallel == serial and len(parallel._kept) == len(serial._kept) > 0


def test_parallel_tasks_cover_the_listing_costliest_first():
    """One huge transcript must not leave a process seconds behind the others (Pareto-sized histories): it is a
    task of its own, given out first; the small ones go in runs of neighbours (one folder's files)."""
    mb = 1 << 20
    sizes = [300 * mb, *[1 * mb] * 40, 100 * mb, 100 * mb, 2 * mb, 100 * mb, 50 * mb, 50 * mb, *[3 * mb] * 30]
    found = [types.SimpleNamespace(size=size) for size in sizes]
    count = 8
    tasks = transcripts._tasks(found, count, sum(sizes))
    assert sorted(i for task in tasks for i in task) == list(range(len(sizes)))  # each transcript once
    assert all(list(task) == sorted(task) for task in tasks)
    costs = [sum(sizes[i] + transcripts.FILE_COST_BYTES for i in task) for task in tasks]
    assert costs == sorted(costs, reverse=True) and list(tasks[0]) == [0]
    assert len(tasks) <= 2 * count + 1
    # Apart from the transcripts bigger than a task, no task is more than twice the share of one.
    share = sum(costs) / count
    assert all(cost <= 2 * share for cost, task in zip(costs, tasks, strict=True) if len(task) > 1)


@pytest.mark.parametrize("line_limit", [8192, 1_000_000])  # the end read again, or found still in the chunk buffer
@pytest.mark.parametrize("lines", [21, None])
def test_the_end_of_a_session_reads_the_same_from_the_buffer_or_the_file(tmp_path, line_limit, lines):
    """A tool_use left without its tool_result (the first 21 lines end on one), and a torn last line."""
    records = (FIXTURES / "ok.print-with-bash-tool-use.jsonl").read_bytes().splitlines(keepends=True)
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"".join(records[:lines]) + b'{"type":"user","mess')
    env = Env(home=tmp_path, project=tmp_path)
    open_uses = ("Bash (toolu_fake_339dadd3a10b4de0)",) if lines else ()
    assert transcripts.scan(env, transcript_at(path), line_limit).tail == transcripts.Tail(True, 20, open_uses)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=40) | st.text(max_size=20).map(lambda t: t.encode("utf-8", "surrogatepass")))
@example(b"/home/\xed\xa0\x80")  # a lone surrogate, UTF-8 encoded: json.loads lets it through
@example(b"/home/a\tb")  # a raw tab: not valid JSON
def test_a_cwd_is_read_as_json_reads_it(body):
    """The first cwd's value skips json.loads when nothing in it is escaped: the same answer for any bytes the
    cwd pattern can give (no quote but an escaped one)."""
    assume(re.fullmatch(rb'(?:[^"\\]|\\.)*', body))
    try:
        expected = json.loads(b'"' + body + b'"')
    except ValueError:
        expected = None
    assert transcripts._json_string(body) == expected
