"""Find the secret values a report must never show: env values, MCP env and headers, tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator

from claude_preflight.env import Env
from claude_preflight.probes.config import config_targets
from claude_preflight.probes.files import parse_read, read_raw
from claude_preflight.redact import SecretSet, is_secret_name


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
        if isinstance(server.get("args"), list):
            yield from flag_values([a for a in server["args"] if isinstance(a, str)])


def flag_values(args: list[str]) -> Iterator[str]:
    """Values of secret-looking flags in a command line: `--api-key VALUE`, `--token=VALUE`, `-password VALUE`."""
    for index, arg in enumerate(args):
        if not arg.startswith("-"):
            continue
        name, sep, value = arg.partition("=")
        if not is_secret_name(name.lstrip("-")):
            continue
        if sep:
            yield value
        elif index + 1 < len(args) and not args[index + 1].startswith("-"):
            yield args[index + 1]


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


def collect_secrets(env: Env, max_bytes: int) -> SecretSet:
    """Every secret value this run could come across. Never raises: a source that cannot be read makes the set
    incomplete, and a Redactor given an incomplete set masks more (fails closed)."""
    found = SecretSet(value for name, value in env.environ.items() if is_secret_name(name))
    sources = [(target.path, target.kind, max_bytes) for target in config_targets(env)]
    sources += [(env.managed_dir / "managed-mcp.json", "mcp", max_bytes),
                (env.config_dir / ".credentials.json", "credentials", 1_000_000)]  # fmt: skip
    for path, kind, limit in sources:
        try:
            if not _collect_file(env, path, kind, limit, found):
                found.complete = False
        except Exception:  # noqa: BLE001 - whatever went wrong, we may now miss a secret: fail closed
            found.complete = False
    return found


def _collect_file(env: Env, path, kind: str, limit: int, found: set[str]) -> bool:
    """Add the secrets of one file; False when it exists but could not be read whole."""
    raw, doc = read_raw(env, path, limit)
    if raw is None:
        return doc.state == "missing"
    found.update(loose_secrets(raw.decode("utf-8", "replace")))  # a corrupt file still prints its lines
    parsed = parse_read(env, path, raw, limit)  # a big file: the parse the checks share
    if parsed.state != "ok":  # invalid or too deep: only the loose secrets above are known
        return False
    data = parsed.data
    if not isinstance(data, dict):
        return False
    if kind == "credentials":
        found.update(_strings(data))
        return True
    found.update(_server_secrets(data.get("mcpServers")))
    if isinstance(data.get("env"), dict):
        found.update(v for k, v in data["env"].items() if isinstance(v, str) and is_secret_name(k))
    if kind == "user-state":
        for project in (data.get("projects") or {}).values() if isinstance(data.get("projects"), dict) else ():
            if isinstance(project, dict):
                found.update(_server_secrets(project.get("mcpServers")))
        # Claude Code keeps the tail of approved keys, and older releases the key itself.
        found.update(_strings(data.get("customApiKeyResponses")))
        found.update(_strings(data.get("primaryApiKey")))
    return True
