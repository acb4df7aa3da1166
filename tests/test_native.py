"""The C library's byte search (native.finder) answers exactly as bytearray.find, and the scan gives the same
answer through either."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_preflight import native
from claude_preflight.env import Env
from claude_preflight.probes import transcripts

FIXTURES = Path(__file__).parent / "fixtures" / "real-claude" / "transcripts"
ON_FAST_GLIBC = native.glibc_version() >= native.FAST_GLIBC


def test_this_machine_searches_through_memmem_where_glibc_is_new_enough():
    """Else the tests below would compare bytearray.find with itself."""
    buffer = bytearray(b"x" * 100)
    if ON_FAST_GLIBC:
        assert native.finder(buffer) != buffer.find
    else:
        assert native.finder(buffer) == buffer.find


@settings(max_examples=300, deadline=None)
@given(
    haystack=st.binary(min_size=1, max_size=300).map(lambda b: b * 3),
    needle_at=st.integers(0, 900),
    needle_size=st.integers(1, 40),
    start=st.integers(0, 1000),
    span=st.integers(0, 1000),
)
def test_the_finder_answers_as_bytearray_find(haystack, needle_at, needle_size, start, span):
    buffer = bytearray(haystack)
    needle = bytes(buffer[needle_at : needle_at + needle_size]) or b"\x00"  # often present, sometimes not
    find = native.finder(buffer)
    end = start + span
    assert find(needle, start, end) == buffer.find(needle, start, end)
    assert find(b"not in it " + needle, start, end) == buffer.find(b"not in it " + needle, start, end)


def test_a_match_at_the_very_end_and_one_cut_by_the_end():
    buffer = bytearray(b"....." + transcripts.API_ERROR)
    find = native.finder(buffer)
    assert find(transcripts.API_ERROR, 0, len(buffer)) == 5
    assert find(transcripts.API_ERROR, 0, len(buffer) - 1) == -1
    assert find(transcripts.API_ERROR, 6, len(buffer)) == -1


def test_an_empty_buffer_gets_bytearray_find():
    assert native.finder(bytearray()).__self__ == bytearray()


@pytest.mark.parametrize("line_limit", [8192, 1_000_000])
def test_the_scan_is_the_same_through_either_search(tmp_path, monkeypatch, line_limit):
    env = Env(home=tmp_path, project=tmp_path)
    found = []
    for i, name in enumerate(sorted(FIXTURES.glob("*.jsonl"))):
        path = tmp_path / f"{i:04d}.jsonl"
        shutil.copyfile(name, path)
        info = os.stat(path)
        found.append(transcripts.Transcript(path, path.stem, tmp_path, info.st_size, info.st_mtime, info.st_mode))
    fast = transcripts._scan_many(env, found, line_limit)
    monkeypatch.setattr(Env, "finder", staticmethod(lambda buffer: buffer.find))
    plain = transcripts._scan_many(env, found, line_limit)
    assert list(fast) == list(plain) and len(fast._kept) > 0


def test_no_glibc_means_no_memmem(monkeypatch):
    monkeypatch.setattr(os, "confstr", lambda name: None)
    assert native.glibc_version() == ()
    monkeypatch.setattr(os, "confstr", lambda name: "glibc 2.28")
    assert native.glibc_version() == (2, 28) < native.FAST_GLIBC
