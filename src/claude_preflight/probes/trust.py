"""Workspace trust: whether the user accepted Claude Code's trust dialog for this project.

Claude Code runs nothing that a project's own files define (its .mcp.json servers, its settings' apiKeyHelper,
hooks) in a folder the user has not trusted, and a cloned repository cannot approve its own servers (2.1.196).
The trust that gates them is recorded for the exact workspace, `gitRoot(cwd) ?? resolve(cwd)`, in
`~/.claude.json` `projects[<path>].hasTrustDialogAccepted`; a trusted parent only hides the dialog
(anthropics/claude-code#72896, #79612). claude-preflight follows the stricter rule.
"""

from __future__ import annotations

from pathlib import Path

from claude_preflight.env import Env
from claude_preflight.probes.files import read_json
from claude_preflight.records import dataclass

# Settings files that live in the project folder: what they define runs only in a trusted workspace.
PROJECT_SETTINGS = ("project-settings", "project-local-settings")


@dataclass(frozen=True)
class Trust:
    trusted: bool
    workspace: Path  # the key Claude Code looks up: the git root, else the project directory
    state_file: Path


def git_root(env: Env, start: Path) -> Path | None:
    """The nearest directory at or above `start` holding .git (a directory, or a worktree's file)."""
    for directory in (start, *start.parents):
        if env.exists(directory / ".git"):
            return directory
    return None


def workspace_trust(env: Env, max_bytes: int) -> Trust:
    project = env.real_path(env.project)
    workspace = git_root(env, project) or project
    state = read_json(env, env.user_state_file, max_bytes).data
    projects = state.get("projects") if isinstance(state, dict) else None
    projects = projects if isinstance(projects, dict) else {}
    keys = dict.fromkeys(env.state_key(p) for p in (workspace, env.project, project))
    trusted = any(
        isinstance(projects.get(key), dict) and projects[key].get("hasTrustDialogAccepted") is True for key in keys
    )
    return Trust(trusted, workspace, env.user_state_file)
