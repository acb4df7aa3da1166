"""Claude Code's settings schema, as generated from its own SDK (data/settings-schema.json).

The data file is written by tools/settings_schema.py from `@anthropic-ai/claude-agent-sdk` 0.3.N, which is published
with Claude Code 2.1.N and bundles the same settings code. For every key Claude Code knows it holds the type (our small
type language below), enum values and numeric ranges, and what Claude Code does with a file holding a bad value there,
as its own parse function answered: "drop" (the whole file is ignored: "These settings did not load"), "skip" (that
entry is left out: "These settings entries were skipped") or "silent" (nothing is said; with `ignores_invalid` the
value is replaced by the default). Types: string, boolean, integer, number, object, array, string[], null, any, and
alternatives joined by |. Refresh: `python tools/settings_schema.py --sdk-version latest --write`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from claude_preflight.records import dataclass, field


@dataclass(frozen=True)
class KeySpec:
    """One settings key (or one field of an object-valued key)."""

    type: str
    on: dict[str, str]  # kind of bad value (type, null, enum, range, entry) -> drop | skip | silent
    enum: tuple = ()
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    items: KeySpec | None = None  # array elements
    values: KeySpec | None = None  # values of an object used as a map
    fields: dict[str, KeySpec] = field(default_factory=dict)  # sub-keys of an object with a fixed shape
    ignores_invalid: bool = False
    managed_only: bool = False
    documented: bool = True
    alias_of: str | None = None  # an old name Claude Code reads, and reports, as this key


def _spec(raw: dict) -> KeySpec:
    return KeySpec(
        type=raw["type"],
        on=dict(raw.get("on", {})),
        enum=tuple(raw.get("enum", ())),
        minimum=raw.get("minimum"),
        maximum=raw.get("maximum"),
        exclusive_minimum=raw.get("exclusiveMinimum"),
        exclusive_maximum=raw.get("exclusiveMaximum"),
        items=_spec(raw["items"]) if "items" in raw else None,
        values=_spec(raw["values"]) if "values" in raw else None,
        fields={name: _spec(sub) for name, sub in raw.get("fields", {}).items()},
        ignores_invalid=raw.get("ignores_invalid", False),
        managed_only=raw.get("managed_only", False),
        documented=raw.get("documented", True),
        alias_of=raw.get("alias_of"),
    )


@lru_cache(maxsize=1)
def raw_data() -> dict:
    return json.loads(resources.files("claude_preflight").joinpath("data/settings-schema.json").read_text("utf-8"))


@lru_cache(maxsize=1)
def keys() -> dict[str, KeySpec]:
    return {name: _spec(raw) for name, raw in raw_data()["keys"].items()}


_DATA = raw_data()
CLI_VERSION: str = _DATA["cli_version"]  # the Claude Code release the schema was generated from
SDK_VERSION: str = _DATA["sdk_version"]
HOOK_EVENTS: frozenset[str] = frozenset(_DATA["hook_events"])
HOOK_EVENT_ORDER: tuple[str, ...] = tuple(_DATA["hook_events"])  # Claude Code's own order, for messages
HOOK_TYPES: tuple[str, ...] = tuple(_DATA["hook_types"])
HOOKS_ON: dict = _DATA["hooks_on"]  # what a bad hook entry costs: under PreToolUse (and PermissionRequest), or others
SETTINGS_KEYS: dict[str, str] = {name: raw["type"] for name, raw in _DATA["keys"].items()}
PERMISSIONS_KEYS: dict[str, str] = {
    name: raw["type"] for name, raw in _DATA["keys"]["permissions"].get("fields", {}).items()
}

# Keys people put in settings.json that Claude Code reads elsewhere: the hint replaces "did you mean".
MISPLACED_KEYS: dict[str, str] = {
    "mcpServers": "MCP servers are not read from settings files: use `claude mcp add` or the project's .mcp.json",
    "apiKey": "Claude Code does not read a key from settings: export ANTHROPIC_API_KEY or set apiKeyHelper",
    "autoUpdates": "not a settings key: Claude Code keeps autoUpdates in ~/.claude.json; to turn updates off put "
    '"DISABLE_AUTOUPDATER": "1" under "env" here',
    "leftArrowOpensAgents": "not a settings key: Claude Code keeps it in ~/.claude.json (change it in /config)",
}


def json_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def matches(value: object, spec: str) -> bool:
    """Does a JSON value have one of the types in `spec`?"""
    actual = json_type(value)
    for alternative in spec.split("|"):
        if alternative in (actual, "any") or (alternative == "number" and actual == "integer"):
            return True
        if alternative == "string[]" and actual == "array" and all(isinstance(v, str) for v in value):
            return True
        if alternative == "array" and actual == "array":
            return True
    return False


def out_of_range(value: float, spec: KeySpec) -> str | None:
    """The bound a number breaks, in words, or None."""
    if spec.minimum is not None and value < spec.minimum:
        return f">= {spec.minimum:g}"
    if spec.exclusive_minimum is not None and value <= spec.exclusive_minimum:
        return f"> {spec.exclusive_minimum:g}"
    if spec.maximum is not None and value > spec.maximum:
        return f"<= {spec.maximum:g}"
    if spec.exclusive_maximum is not None and value >= spec.exclusive_maximum:
        return f"< {spec.exclusive_maximum:g}"
    return None
