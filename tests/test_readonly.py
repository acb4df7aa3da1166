"""A run never writes under --home or --project: every file is hashed before and after."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import homes
from test_plugin import run_suite


def snapshot(root: Path) -> dict[str, tuple]:
    state = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            info = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() and not path.is_symlink() else None
            state[str(path.relative_to(root))] = (info.st_mode, info.st_size, info.st_mtime_ns, digest)
    return state


def test_a_full_run_changes_nothing_in_home_or_project(pytester, tmp_path):
    home, project = homes.build(tmp_path / "ro", damaged=True)
    (home / ".claude" / "settings.local.json").write_text("{")  # broken files must not be "fixed" either
    before = snapshot(tmp_path / "ro")
    result = run_suite(pytester, home, project, f"--junitxml={pytester.path / 'j.xml'}")
    assert result.ret == 1  # the damaged home really was checked
    assert snapshot(tmp_path / "ro") == before
