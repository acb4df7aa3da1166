"""`claude-preflight`: run the packaged checks with the plugin, from any directory."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from claude_preflight import catalogue


def list_checks() -> str:
    width = max(len(info.id) for info in catalogue.CATALOGUE)
    return "\n".join(
        f"{info.id:<{width}}  {info.title}\n{'':<{width}}  cause: {info.cause}" for info in catalogue.CATALOGUE
    )


def pytest_args(args: list[str], cwd: Path) -> list[str]:
    import claude_preflight
    import claude_preflight.checks

    package = Path(claude_preflight.__file__).parent
    checks = Path(claude_preflight.checks.__file__).parent
    return [
        str(checks),
        "-c", str(package / "pytest.ini"),
        "--rootdir", str(checks),  # node ids read test_config.py::..., installed or editable
        "--noconftest",
        "--assert=plain",  # checks return Results and never assert: rewriting would only cost start-up time
        "-p", "no:cacheprovider",  # would write .pytest_cache into site-packages
        "-p", "pytest_metadata.plugin",
        "-p", "pytest_html.plugin",
        "-p", "claude_preflight.plugin",
        "-o", f"reports_dir={cwd / 'reports'}",
        *args,
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["diagnose"]:
        from claude_preflight import diagnose

        return diagnose.main(args[1:])
    if args[:1] == ["merge"]:
        from claude_preflight import merge

        return merge.main(args[1:])
    if "--list" in args:
        print(list_checks())
        return 0
    # Only our plugins: a user's other installed pytest plugins must not change the run.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return int(pytest.main(pytest_args(args, Path.cwd())))


if __name__ == "__main__":
    sys.exit(main())
