"""Find the secret values a report must never show: env values, MCP env and headers, tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator

from claude_preflight.env import Env
from claude_preflight.probes.config import config_targets
from claude_preflight.probes.files import read_json
from claude_preflight.redact import is_secret_name


def _server_secrets(servers) -> Iterator[str]:
    if not isinstance(servers, dict):
        return
    for server in servers.values():
        if not isinstance(server, dict):
            continue
        for section in ("env", "headers"):
            values = server.get(section)
            if isinstance(values, dict):
                yield from (v for v in values.values() if isinstance(v, str))


_SECRET_OBJECT = re.compile(r'"(?:env|headers)"\s*:\s*\{([^{}]*)\}')
_STRING_PAIR = re.compile(r'"(?:[^"\\]|\\.)*"\s*:\s*"((?:[^"\\]|\\.)*)"')


def loose_secrets(text: str) -> Iterator[str]:
    """env/headers values found in text that may not parse (a corrupt file still prints its lines)."""
    for block in _SECRET_OBJECT.finditer(text):
        yield from _STRING_PAIR.findall(block.group(1))


def _strings(obj) -> Iterator[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from _strings(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _strings(value)


def collect_secrets(env: Env, max_bytes: int) -> set[str]:
    """Every secret value this run could come across. Unreadable files are passed over."""
    found = {value for name, value in env.environ.items() if is_secret_name(name)}
    for target in config_targets(env):
        try:
            found.update(loose_secrets(env.read_bytes(target.path, max_bytes).decode("utf-8", "replace")))
        except Exception:  # noqa: BLE001 - missing, unreadable or odd files hold nothing we can read
            pass
        data = read_json(env, target.path, max_bytes).data
        if not isinstance(data, dict):
            continue
        found.update(_server_secrets(data.get("mcpServers")))
        if isinstance(data.get("env"), dict):
            found.update(v for k, v in data["env"].items() if isinstance(v, str) and is_secret_name(k))
        if target.kind == "user-state":
            for project in (data.get("projects") or {}).values():
                if isinstance(project, dict):
                    found.update(_server_secrets(project.get("mcpServers")))
            # Claude Code keeps the tail of approved keys, and older releases the key itself.
            found.update(_strings(data.get("customApiKeyResponses")))
            found.update(_strings(data.get("primaryApiKey")))
    managed = read_json(env, env.sys_path("/etc/claude-code/managed-mcp.json"), max_bytes).data
    if isinstance(managed, dict):
        found.update(_server_secrets(managed.get("mcpServers")))
    credentials = read_json(env, env.config_dir / ".credentials.json", 1_000_000).data
    found.update(_strings(credentials))
    return found
