"""claude-preflight's verdict on settings files agrees with the real Claude Code (the pinned `real_claude`).

Every case of tools/conformance.py runs the real `claude -p` against a fake Anthropic API on 127.0.0.1 and reads what
it printed about the settings file ("did not load" = dropped, "entries were skipped" = skipped, nothing = silent).
The cases run two at a time in one session fixture (about a minute on two cores); each case is its own test.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "tools"))
import conformance  # noqa: E402  (tools/conformance.py)

CLASSES = {"valid key", "valid permissions key", "hook event", "wrong type", "silently ignored", "entry skipped",
           "hook type", "env", "null", "managed only", "enum", "range", "not a settings key", "unknown key", "json"}  # fmt: skip


@pytest.fixture(scope="module")
def outcomes(real_claude) -> dict[str, conformance.Outcome]:
    return {o.case.name: o for o in conformance.run_cases(real_claude, conformance.CASES, workers=2)}


def test_the_case_set_covers_every_class():
    names = [c.name for c in conformance.CASES]
    assert len(names) == len(set(names)) and len(names) >= 60
    assert {c.cls for c in conformance.CASES} == CLASSES


@pytest.mark.parametrize("name", [c.name for c in conformance.CASES])
def test_verdict_agrees_with_claude_code(outcomes, name):
    outcome = outcomes[name]
    assert outcome.cli != "error", f"claude -p did not run: {outcome.cli_text}"
    assert outcome.agrees, (
        f"Claude Code: {outcome.cli}\n{outcome.cli_text}\nclaude-preflight: {outcome.ours}\n{outcome.our_text}"
    )


def test_the_classifier_reads_claude_codes_words():
    skipped = (
        "These settings entries were skipped; the rest of each source is in effect:\n"
        '  /h/.claude/settings.json (hooks.Foo): Unknown hook event "Foo" was ignored.\n'
        "Fix each problem listed, then start Claude Code again.\n"
    )
    assert conformance.skipped_paths(skipped) == ["hooks.Foo"]
    case = conformance.Case("x", {})
    assert conformance.Outcome(case, "skip", skipped, "warn", "hooks.Foo: unknown hook event").agrees
    assert not conformance.Outcome(case, "skip", skipped, "warn", "model: ...").agrees
    assert not conformance.Outcome(case, "drop", "", "warn", "").agrees
    assert not conformance.Outcome(case, "silent", "", "fail", "").agrees
    assert conformance.Outcome(case, "silent", "", "warn", "").agrees
