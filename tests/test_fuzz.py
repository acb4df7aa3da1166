"""Property-based fuzzing (hypothesis) of the readers hostile files reach first: JSON files, transcripts and the
settings rules. Whatever the bytes, each returns facts or a Result; none raises. Budget: bounded examples, sizes
and depths, so the module stays within seconds."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_preflight.env import Env
from claude_preflight.outcome import Result
from claude_preflight.probes.config import config_targets
from claude_preflight.probes.files import MAX_DEPTH, read_json
from claude_preflight.probes.transcripts import scan, transcripts
from claude_preflight.rules.config import evaluate_config

BUDGET = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
STATES = {"missing", "not-a-file", "unreadable", "too-large", "too-deep", "invalid-json", "ok"}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=40,
)
# Text that is almost JSON: fragments glued together, deep brackets, BOMs, control characters, surrogates.
fragments = st.sampled_from(['{', '}', '[', ']', '"', ':', ',', 'null', '1e999', '-', '\\u', '\\ud800', '\ufeff',
                             '\x00', '"a":', '[' * (MAX_DEPTH + 1), '{"x":' * 300, 'NaN', 'true'])  # fmt: skip
almost_json = st.lists(fragments | st.text(max_size=5), max_size=40).map("".join)


def _env(root: Path) -> Env:
    return Env(home=root / "home", project=root / "project", sysroot=root / "sysroot", environ={"PATH": os.defpath})


@BUDGET
@given(data=st.binary(max_size=2000) | almost_json.map(str.encode) | json_values.map(lambda v: json.dumps(v).encode()))
def test_any_bytes_in_a_settings_file_give_a_result(tmp_path, data):
    env = _env(tmp_path)
    for target in config_targets(env):
        if target.kind != "user-state":
            continue
        target.path.parent.mkdir(parents=True, exist_ok=True)
        target.path.write_bytes(data)
        doc = read_json(env, target.path, 1 << 20)
        assert doc.state in STATES
        assert isinstance(evaluate_config(target, doc), Result)


@BUDGET
@given(value=json_values)
def test_any_json_as_settings_gives_a_result(tmp_path, value):
    env = _env(tmp_path)
    for target in config_targets(env):
        if target.kind != "settings":
            continue
        target.path.parent.mkdir(parents=True, exist_ok=True)
        target.path.write_text(json.dumps({"permissions": value, "hooks": value, "env": value, "model": value}))
        assert isinstance(evaluate_config(target, read_json(env, target.path, 1 << 20)), Result)


record = st.fixed_dictionaries(
    {"type": st.sampled_from(["user", "assistant", "system", "x"]), "message": json_values},
    optional={"isApiErrorMessage": st.booleans(), "cwd": st.text(max_size=20), "sessionId": st.text(max_size=10)},
)
line = record.map(lambda r: json.dumps(r).encode()) | st.binary(max_size=300) | almost_json.map(str.encode)


@BUDGET
@given(lines=st.lists(line, max_size=30), torn=st.booleans())
def test_any_transcript_scans(tmp_path, lines, torn):
    env = _env(tmp_path)
    folder = env.config_dir / "projects" / "-p"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "11111111-0000-4000-8000-000000000001.jsonl"
    path.write_bytes(b"\n".join(lines) + (b"" if torn else b"\n"))
    [found] = transcripts(env, 10)
    result = scan(env, found, 1 << 20)
    assert result.transcript.path == path


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(), json_values, max_size=8))
def test_an_objects_size_from_its_values_sizes_is_its_compact_json_size(obj):
    """context.state-file weighs ~/.claude.json's "projects" from what each project weighs (no second write-out)."""
    from claude_preflight.probes.context import _compact_size, _object_size

    assert _object_size(obj, [_compact_size(v) for v in obj.values()]) == _compact_size(obj)
