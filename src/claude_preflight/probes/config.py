"""Which config files Claude Code reads, and what is in them."""

from __future__ import annotations

from pathlib import Path

from claude_preflight.env import Env
from claude_preflight.probes.files import JsonFile, read_json
from claude_preflight.records import dataclass


@dataclass(frozen=True)
class ConfigTarget:
    id: str  # stable test id, e.g. "user-settings"
    kind: str  # "user-state", "settings" or "mcp"
    role: str  # what the file is for, in words
    path: Path

    @property
    def label(self) -> str:
        return str(self.path)


def config_targets(env: Env) -> list[ConfigTarget]:
    """Every config file Claude Code reads for this home and project, present or not."""
    return [
        ConfigTarget("user-state", "user-state", "user state (~/.claude.json)", env.user_state_file),
        ConfigTarget("user-settings", "settings", "user settings", env.config_dir / "settings.json"),
        ConfigTarget("project-settings", "settings", "project settings", env.project / ".claude" / "settings.json"),
        ConfigTarget(
            "project-local-settings",
            "settings",
            "local project settings",
            env.project / ".claude" / "settings.local.json",
        ),
        ConfigTarget("project-mcp", "mcp", "project MCP servers (.mcp.json)", env.project / ".mcp.json"),
        ConfigTarget(
            "managed-settings",
            "settings",
            "managed (policy) settings",
            env.managed_dir / "managed-settings.json",
        ),
    ]


# Claude Code's precedence for settings files, highest first.
SETTINGS_PRECEDENCE = ("managed-settings", "project-local-settings", "project-settings", "user-settings")


def settings_documents(env: Env, max_bytes: int) -> list[tuple[ConfigTarget, dict]]:
    """Every settings file that parses to an object, highest precedence first (managed, local, project, user)."""
    targets = {t.id: t for t in config_targets(env)}
    documents = []
    for target_id in SETTINGS_PRECEDENCE:
        data = read_json(env, targets[target_id].path, max_bytes).data
        if isinstance(data, dict):
            documents.append((targets[target_id], data))
    return documents


def read_config(env: Env, target: ConfigTarget, max_bytes: int) -> JsonFile:
    return read_json(env, target.path, max_bytes)


@dataclass(frozen=True)
class StateCopy:
    path: Path
    mtime: float
    size: int


@dataclass(frozen=True)
class StateCopies:
    """Copies of ~/.claude.json that Claude Code left: backups, and corrupt files it set aside."""

    state_file: Path
    corrupted: tuple[StateCopy, ...]  # newest first
    backups: tuple[StateCopy, ...]  # newest first

    @property
    def newest_backup(self) -> StateCopy | None:
        return self.backups[0] if self.backups else None


def state_copies(env: Env) -> StateCopies:
    """Look in ~/.claude/backups/ (2.x) and beside ~/.claude.json (older releases)."""
    corrupted: list[StateCopy] = []
    backups: list[StateCopy] = []
    for directory in (env.config_dir / "backups", env.user_state_file.parent):
        for path, info in env.entries(directory):
            copy = StateCopy(path, info.st_mtime, info.st_size)
            if path.name.startswith(".claude.json.corrupted."):
                corrupted.append(copy)
            elif path.name.startswith(".claude.json.backup") and info.st_size > 0:
                backups.append(copy)

    def newest_first(copies: list[StateCopy]) -> tuple[StateCopy, ...]:
        return tuple(sorted(set(copies), key=lambda c: c.mtime, reverse=True))

    return StateCopies(env.user_state_file, newest_first(corrupted), newest_first(backups))
