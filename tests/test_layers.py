"""The floor plan holds (../shared/ARCHITECTURE.md): probes read facts through Env and import no OS module, rules
import no probe-side I/O, and nothing imports upward. Read from the source with the ast module, as an import graph."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "claude_preflight"
OS_MODULES = {"os", "socket", "ssl", "subprocess", "psutil", "signal", "resource", "pwd", "grp", "fcntl", "ctypes",
              "multiprocessing", "concurrent.futures.process", "http.client"}  # fmt: skip
ENV_LEVEL = {
    "claude_preflight.children",
    "claude_preflight.native",
    "claude_preflight.net",
    "claude_preflight.workers",
}  # only Env (and the plugin's end of run) use these


def runtime_imports(path: Path) -> set[str]:
    """Modules a file imports when it runs (imports under `if TYPE_CHECKING:` are types only)."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for child in node.body for inner in ast.walk(child))
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).glob("*.py"))


def test_probes_import_no_os_module_and_no_env_level_module():
    offenders = {
        path.name: sorted(
            m for m in runtime_imports(path) if m.split(".")[0] in OS_MODULES or m in OS_MODULES or m in ENV_LEVEL
        )  # fmt: skip
        for path in modules("probes")
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_rules_do_no_io_and_nothing_imports_upward():
    for path in modules("rules"):
        imported = runtime_imports(path)
        assert not {m for m in imported if m.split(".")[0] in OS_MODULES}, path.name
        assert not {m for m in imported if m.startswith(("claude_preflight.repairs", "claude_preflight.plugin",
                                                           "claude_preflight.checks", "claude_preflight.env"))}, path.name  # fmt: skip
    for path in modules("probes"):
        imported = runtime_imports(path)
        assert not {m for m in imported if m.startswith(("claude_preflight.rules", "claude_preflight.plugin",
                                                           "claude_preflight.repairs"))}, path.name  # fmt: skip


def test_the_import_graph_reader_sees_an_os_import():
    """The reader must catch what it is there to catch (a test that cannot fail is no test)."""
    probe = PACKAGE.parent.parent / "tests" / "fixtures"
    sample = probe / "_layer_sample.py"
    sample.write_text("import os\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import socket\n")
    try:
        assert runtime_imports(sample) == {"os", "typing", "typing.TYPE_CHECKING"}
    finally:
        sample.unlink()
