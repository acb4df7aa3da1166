"""Realistic homes and projects built from the real Claude Code files in tests/fixtures/real-claude/."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "real-claude"
SESSION = "ba05e2af-f266-4977-a803-495d0eb5ec50"


def encode_cwd(path: Path) -> str:
    """Claude Code's directory name for a project (every non-alphanumeric character becomes -)."""
    return re.sub(r"[^A-Za-z0-9]", "-", str(path))


def _copy(name: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FIXTURES / name, target)


def build(root: Path, damaged: bool = False) -> tuple[Path, Path]:
    """A home and project as Claude Code 2.1.330 leaves them; `damaged` adds typical breakage."""
    home, project = root / "home", root / "project"
    claude = home / ".claude"
    project.mkdir(parents=True)
    _copy("config/user.claude.json.after-mcp-add.json", home / ".claude.json")
    _copy("config/backups.claude.json.backup.EPOCHMS.json", claude / "backups" / ".claude.json.backup.1795335275548")
    _copy("config/history.jsonl", claude / "history.jsonl")
    _copy(
        "config/plugins.store.cc-plugin-agents-md_builtin.json",
        claude / "plugins" / "store" / "cc-plugin-agents-md.json",
    )
    transcripts = claude / "projects" / encode_cwd(project)
    kept = ["ok.print-text.jsonl", "ok.print-with-bash-tool-use.jsonl"]
    if damaged:  # sessions that died of API errors
        kept += ["err.print-401.jsonl", "err.print-429.jsonl", "err.print-500oom.jsonl"]
    for index, name in enumerate(kept):
        _copy(f"transcripts/{name}", transcripts / f"{index:08d}-{SESSION[9:]}.jsonl")
    (claude / "settings.json").write_text(
        json.dumps({"permissions": {"allow": ["Bash(ls:*)"]}, "env": {"DISABLE_TELEMETRY": "1"}}, indent=2)
    )
    _copy("config/project.mcp.json.after-mcp-add-project-scope.json", project / ".mcp.json")
    (project / "CLAUDE.md").write_text("# Project\nRun `make test` before committing.\n")
    if damaged:
        _copy("corrupt-inputs/settings.trailing-comma.json", claude / "settings.json")
        _copy("corrupt-inputs/settings.unknown-key.json", project / ".claude" / "settings.json")
        _copy(
            "corrupt-inputs/user.claude.json.missing-comma", claude / "backups" / ".claude.json.corrupted.1795335275999"
        )
        # The last session was killed mid-write: its transcript ends in a torn line.
        torn = transcripts / f"{len(kept) - 1:08d}-{SESSION[9:]}.jsonl"
        torn.write_bytes(torn.read_bytes()[:-100])
        # A session left in the registry by a SIGKILL (its pid 15510 is not running here).
        _copy("sessions-registry/stale-after-sigkill.PID.json", claude / "sessions" / "15510.json")
    return home, project


def grow_state(home: Path, megabytes: float) -> dict:
    """~/.claude.json as years of use leave it: projects with their prompt history, to about `megabytes` MB
    (Claude Code keeps every project it was started in, each with its last prompts). Returns what it wrote."""
    path = home / ".claude.json"
    state = json.loads(path.read_text())
    project = {
        "allowedTools": [],
        "history": [
            {"display": f"fix the flaky test in module {m}, then run the suite", "pastedContents": {}}
            for m in range(20)
        ],  # fmt: skip
        "mcpServers": {},
        "hasTrustDialogAccepted": True,
        "lastSessionId": "00000000-0000-4000-8000-0000",
    }
    size = len(json.dumps(project, indent=2))
    count = max(1, int(megabytes * 1e6 / size))
    state["projects"] = {f"/home/dev/src/project-{n}": {**project, "hasTrustDialogAccepted": n % 2 == 0}
                         for n in range(count)}  # fmt: skip
    path.write_text(json.dumps(state, indent=2))
    return state
