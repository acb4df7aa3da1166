"""Every rule, driven through case directories: adding a scenario is adding a directory."""

import os
import tempfile

import pytest
from caserunner import all_cases, load, remove, run_case


@pytest.mark.parametrize("directory", all_cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_case(directory):
    case = load(directory)
    if case.needs_root() and os.geteuid() != 0:
        pytest.skip("creating files owned by another user needs root (CI runs as root)")
    if case.spec.get("requires") == "inodes" and os.statvfs(tempfile.gettempdir()).f_files == 0:
        pytest.skip("this filesystem does not count inodes")
    results, root = run_case(case)
    try:
        expect = case.spec["expect"]
        for target, wanted in expect.items():
            matched = results if target == "*" else {target: results.get(target)}
            assert all(matched.values()), f"no result for target {target!r}; got {sorted(results)}"
            for name, got in matched.items():
                assert got["status"] == wanted["status"], (
                    f"{name}: {got['status']} != {wanted['status']}\n{got['text']}"
                )
                for word in wanted.get("words", []):
                    assert word in got["text"], f"{name}: {word!r} not in:\n{got['text']}"
        if "others" in case.spec:
            for name, got in results.items():
                if name not in expect:
                    assert got["status"] == case.spec["others"], f"{name}: {got['status']}\n{got['text']}"
    finally:
        remove(root)
