"""The catalogue, the check modules and the README agree: one cannot drift from the others."""

from __future__ import annotations

import re
from pathlib import Path

from caserunner import CASES, load_checks

from claude_preflight import catalogue
from claude_preflight.checking import REGISTRY

ROOT = Path(__file__).resolve().parent.parent


def test_every_catalogue_entry_has_exactly_one_check():
    load_checks()
    assert set(REGISTRY) == {info.id for info in catalogue.CATALOGUE}


# Checks whose facts cannot live in a directory tree, with the tests that drive them instead.
DRIVEN_ELSEWHERE = {
    "network.api-key": "tests/test_network.py (real HTTPS server)",
    "network.latency": "tests/test_network.py (real HTTPS server and CONNECT proxy)",
    "network.tls": "tests/test_network.py (real HTTPS server, throwaway CA)",
    "network.streaming": "tests/test_network.py (real SSE endpoint)",
    "mcp.server": "tests/test_mcp.py (real stdio and HTTP MCP servers)",
    "mcp.context": "tests/test_mcp.py (real stdio MCP servers)",
}


def test_every_check_is_driven_by_case_directories():
    with_cases = {p.name for p in CASES.iterdir() if any(p.glob("*/case.json"))}
    assert with_cases | set(DRIVEN_ELSEWHERE) == {info.id for info in catalogue.CATALOGUE}
    assert not with_cases & set(DRIVEN_ELSEWHERE)
    for test_file in DRIVEN_ELSEWHERE.values():
        assert (ROOT / test_file.split()[0]).exists()


def test_readme_documents_every_threshold():
    from claude_preflight.policy import THRESHOLDS, default

    readme = (ROOT / "README.md").read_text()
    for name in THRESHOLDS:
        row = re.search(rf"^\| `{name}` \| ([^|]+) \|", readme, re.M)
        assert row, f"README's threshold table lacks {name}"
        documented, actual = row.group(1).strip().strip("`"), default(name)
        try:
            assert float(documented) == float(actual), f"README default of {name} is not {actual}"
        except ValueError:
            assert documented == actual, f"README default of {name} is not {actual}"


def test_readme_table_is_the_catalogue():
    readme = (ROOT / "README.md").read_text()
    table = re.search(r"<!-- catalogue -->\n(.*?)\n<!-- /catalogue -->", readme, re.S)
    assert table, "README.md lacks the <!-- catalogue --> block"
    assert table.group(1).strip() == catalogue.markdown_table(), (
        "README table out of date: regenerate it with `python -m claude_preflight.catalogue`"
    )


def test_families_have_docs_and_causes():
    for info in catalogue.CATALOGUE:
        assert info.docs.startswith("https://") and info.cause and info.title
        assert info.id.startswith(info.family + ".")


def test_readme_threshold_table_is_the_policy():
    """Each threshold is written once (policy.threshold): the README table is generated from it."""
    from claude_preflight import policy

    readme = (ROOT / "README.md").read_text()
    table = re.search(r"<!-- thresholds -->\n(.*?)\n<!-- /thresholds -->", readme, re.S)
    assert table, "README.md lacks the <!-- thresholds --> block"
    assert table.group(1).strip() == policy.markdown_table(), (
        "README threshold table out of date: regenerate it with `python -m claude_preflight.policy`"
    )
