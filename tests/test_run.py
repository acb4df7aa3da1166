"""A run is an object: two runs in one process (as here) share no facts, caches or learnt secrets."""

from __future__ import annotations

import json

import homes
from test_plugin import run_suite

from claude_preflight.env import Env
from claude_preflight.probes import once_per_run
from claude_preflight.redact import Redactor


def statuses(path) -> dict[str, str]:
    return {f"{c['id']}/{c['target']}": c["status"] for c in json.loads(path.read_text())["checks"]}


def test_two_runs_in_one_process_on_different_homes_share_nothing(pytester, tmp_path):
    healthy, damaged = homes.build(tmp_path / "healthy"), homes.build(tmp_path / "damaged", damaged=True)
    first, middle, last = (pytester.path / name for name in ("first.json", "middle.json", "last.json"))
    run_suite(pytester, *healthy, "--json", str(first))
    run_suite(pytester, *damaged, "--json", str(middle))
    run_suite(pytester, *healthy, "--json", str(last))
    assert statuses(first) == statuses(last)  # the damaged run in between left nothing behind
    assert statuses(middle) != statuses(first) and "fail" in statuses(middle).values()


def test_each_env_has_its_own_run(tmp_path):
    one, two = (Env(home=tmp_path, project=tmp_path, environ={}) for _ in range(2))
    assert once_per_run("x", one, 1, lambda: "one") == "one"
    assert once_per_run("x", two, 1, lambda: "two") == "two"  # not the first Env's cached fact
    assert once_per_run("x", one, 1, lambda: "again") == "one"  # cached within its own run
    one.this_run.learn("learnt-secret-value-1234")
    assert "learnt-secret" not in Redactor(learned=one.this_run.learned)("key learnt-secret-value-1234")
    assert "learnt-secret" in Redactor(learned=two.this_run.learned)("key learnt-secret-value-1234")


def test_a_big_state_file_is_parsed_once_a_run_and_no_check_changes_it(pytester, tmp_path, monkeypatch):
    """Every check that reads ~/.claude.json shares one parse (it was parsed 13 times a run); the shared data is
    read, never changed, by the whole suite; and the next run parses it again."""
    import importlib

    # The module the inner runs use: an earlier pytester run may have left the package attribute on an old copy.
    files = importlib.import_module("claude_preflight.probes.files")
    home, project = homes.build(tmp_path / "user")
    state = homes.grow_state(home, 0.5)
    assert (home / ".claude.json").stat().st_size > files.SHARED_PARSE_BYTES
    parsed: list = []
    real = files._parsed

    def counting(path, raw):
        result = real(path, raw)
        if path == home / ".claude.json":
            parsed.append(result)
        return result

    monkeypatch.setattr(files, "_parsed", counting)
    for _ in range(2):
        run_suite(pytester, home, project, "--offline", "--no-mcp-start", machine=True)
    assert len(parsed) == 2  # once in each run
    assert all(p.state == "ok" and p.data == state for p in parsed)  # not one change by any check


def test_a_shared_value_is_recomputed_when_its_version_changes_and_only_a_few_are_kept(tmp_path):
    from claude_preflight.run import BY_VERSION_KEYS

    run = Env(home=tmp_path, project=tmp_path, environ={}).this_run
    calls = []
    first = run.by_version("a", b"one", lambda: calls.append("one") or "ONE")
    assert first == "ONE" and run.by_version("a", b"one", lambda: calls.append("again")) == "ONE"
    assert run.by_version("a", b"two", lambda: calls.append("two") or "TWO") == "TWO"  # the file changed
    for n in range(BY_VERSION_KEYS):  # "a" is the least recently used: it goes
        run.by_version(n, b"x", lambda: "x")
    assert run.by_version("a", b"two", lambda: calls.append("evicted") or "TWO") == "TWO"
    assert calls == ["one", "two", "evicted"]
    fresh = Env(home=tmp_path, project=tmp_path, environ={}).this_run
    fresh.by_version("first", b"v", lambda: "kept")  # stored first, then used last: it stays
    for n in range(1, BY_VERSION_KEYS):
        fresh.by_version(n, b"x", lambda: "x")
    assert fresh.by_version("first", b"v", lambda: "recomputed") == "kept"
    fresh.by_version("new", b"x", lambda: "x")  # the least recently used (1) goes, not "first"
    assert fresh.by_version("first", b"v", lambda: "recomputed") == "kept"
    assert fresh.by_version(1, b"x", lambda: "recomputed") == "recomputed"


def test_a_big_file_changed_during_the_run_is_read_again(tmp_path):
    """Shared while it is the same file with the same size and times; written over (same size, new bytes), it is
    read and parsed again."""
    from claude_preflight.probes.files import SHARED_PARSE_BYTES, read_json

    env, path = Env(home=tmp_path, project=tmp_path, environ={}), tmp_path / "big.json"
    path.write_text(json.dumps({"pad": "a" * SHARED_PARSE_BYTES}))
    first = read_json(env, path, 1 << 30)
    assert read_json(env, path, 1 << 30) is first  # unchanged: the one parse
    path.write_text(json.dumps({"pad": "b" * SHARED_PARSE_BYTES}))
    again = read_json(env, path, 1 << 30)
    assert again.data["pad"][0] == "b" and first.data["pad"][0] == "a"
    small = tmp_path / "small.json"
    small.write_text("{}")
    assert read_json(env, small, 1 << 30) is not read_json(env, small, 1 << 30)  # small files are not kept
