"""Remediation text as the user reads it: current commands, placeholders that survive our own redactor."""

from __future__ import annotations

from pathlib import Path

from claude_preflight.redact import Redactor
from claude_preflight.rules.network import EXPORT_KEY, EXPORTS
from claude_preflight.rules.sessions import fix_command

SRC = Path(__file__).parents[1] / "src" / "claude_preflight"


def test_the_key_placeholder_is_shown_as_written():
    # A value after KEY= is masked as a secret; the placeholder must reach the report whole.
    assert Redactor()(EXPORT_KEY) == EXPORT_KEY and "sk-ant-..." in EXPORT_KEY
    for variable, example in EXPORTS.items():  # each credential variable is set again by its own name
        assert Redactor()(example) == example and example.startswith(f"export {variable}=")


def test_no_remediation_names_a_login_subcommand_that_does_not_exist():
    # Claude Code 2.1.332: `claude auth login`; `claude /login` starts a session with the prompt "/login".
    for path in (SRC / "rules").glob("*.py"):
        assert "claude /login" not in path.read_text(), path


def test_the_fix_command_names_the_runs_home_and_project():
    command = fix_command("sessions.index", Path("/srv/dev home"), Path("/work/p"), all_sessions=True)
    assert command == "claude-preflight -k sessions.index --fix --home '/srv/dev home' --project /work/p --all-sessions"
    assert fix_command("sessions.index") == "claude-preflight -k sessions.index --fix"
