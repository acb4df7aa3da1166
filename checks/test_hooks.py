"""Hooks and the status line: every command Claude Code would start for them can start. None is ever run."""

from claude_preflight.checking import check
from claude_preflight.probes import hooks
from claude_preflight.rules.hooks import evaluate_hook, evaluate_status_line


def _facts(env, entry):
    return hooks.read_command(env, entry) if isinstance(entry.command, str) and entry.command.strip() else None


@check("hooks.command", targets=hooks.hook_targets)
def test_hook_command(env, policy, target):
    return evaluate_hook(target, _facts(env, target))


@check("hooks.status-line", targets=hooks.status_line_targets)
def test_status_line(env, policy, target):
    return evaluate_status_line(target, _facts(env, target))
