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
