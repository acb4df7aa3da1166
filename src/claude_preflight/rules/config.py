"""Rules for config files: parse errors, wrong types, unknown keys, leftover corrupt copies."""

from __future__ import annotations

import json
import time
from dataclasses import replace

from claude_preflight.outcome import Result, fail, ok, skip, warn
from claude_preflight.probes.config import ConfigTarget, StateCopies
from claude_preflight.probes.files import MAX_DEPTH, JsonError, JsonFile
from claude_preflight.records import dataclass, field
from claude_preflight.redact import mask_json_values
from claude_preflight.rules.settings_schema import (
    CLI_VERSION,
    HOOK_EVENT_ORDER,
    HOOK_EVENTS,
    HOOK_TYPES,
    HOOKS_ON,
    MISPLACED_KEYS,
    KeySpec,
    json_type,
    keys,
    matches,
    out_of_range,
)

DOCS_SETTINGS = "https://code.claude.com/docs/en/settings"
DOCS_HOOKS = "https://code.claude.com/docs/en/hooks"
DOCS_MCP = "https://code.claude.com/docs/en/mcp"
SETTINGS = keys()

# What Claude Code does when this kind of file cannot be used (observed with the real CLI 2.1.330).
CONSEQUENCE = {
    "user-state": "Claude Code refuses to start while ~/.claude.json is not valid JSON (every `claude` command exits 1 "
    'with "Claude configuration file at ... is corrupted: JSON Parse error").',
    "settings": 'Claude Code ignores this whole file ("These settings did not load"): every permission, hook and '
    "environment variable in it is missing from your sessions.",
    "mcp": "Claude Code silently starts without any MCP server from this file: `claude -p` exits 0 and the tools "
    "are just missing (only `claude mcp list` shows the error).",
}


def _hint(error: JsonError) -> str:
    message = error.message.lower()
    if "empty" in message:
        return "The file is empty (often the result of a crash while the disk was full)."
    if error.at_end:
        return "The file ends before the JSON does: a closing } or ] is missing (or the file was cut short)."
    if "trailing comma" in message:
        return "A comma stands before a closing bracket: delete that comma."
    if "delimiter" in message:
        return "A comma is missing: add one at the end of the previous value."
    if "bom" in message:
        return "The file starts with a byte-order mark: save it as UTF-8 without BOM."
    return "Fix the JSON at that position."


def evaluate_config(target: ConfigTarget, doc: JsonFile, copies: StateCopies | None = None) -> Result:
    """One config file: readable, valid JSON, and (for settings) the documented types."""
    where = str(target.path)
    if doc.state == "missing":
        return skip(f"{target.role}: not present ({where})")
    if doc.state == "not-a-file":
        return fail(
            f"{target.role} is a {doc.kind}, not a file",
            f"{where}: {doc.kind}",
            remediation=f"{CONSEQUENCE[target.kind]} Move it out of the way and let Claude Code recreate it:\n"
            f"  mv '{where}' '{where}.not-a-file'",
            docs=DOCS_SETTINGS,
        )
    if doc.state == "unreadable":
        return fail(
            f"{target.role} cannot be read: {doc.error}",
            f"{where}: {doc.error}",
            remediation=f"{CONSEQUENCE[target.kind]} Give yourself access to it:\n"
            f"  sudo chown \"$(id -un)\" '{where}' && chmod u+rw '{where}'",
            docs=DOCS_SETTINGS,
        )
    if doc.state == "too-large":
        return warn(
            f"{target.role} is {doc.size / 1e6:.0f} MB: too large to check",
            f"{where}: {doc.size} bytes, over the config_max_mb limit",
            remediation="Claude Code parses this file at every start and rewrites it often; a file this size makes "
            "start-up slow and concurrent writes likely to corrupt it. Back it up, then shrink it:\n"
            f"  cp '{where}' '{where}.bak'",
            docs=DOCS_SETTINGS,
        )
    if doc.state == "too-deep":
        return fail(
            f"{target.role} is nested deeper than {MAX_DEPTH} levels",
            f"{where}: {doc.size} bytes of JSON nested deeper than {MAX_DEPTH} levels",
            remediation="No file Claude Code writes nests like this: it is damaged, or made to break the tools that "
            "read it. Set it aside and restore a good copy (or let Claude Code recreate it):\n"
            f"  mv '{where}' '{where}.too-deep'",
            docs=DOCS_SETTINGS,
        )
    encoding = []
    if doc.bad_utf8:
        line, column = doc.bad_utf8
        encoding = [f"{where}: bytes that are not UTF-8 at line {line}, column {column}"]
    if doc.state == "invalid-json" and target.kind == "settings" and doc.json_error.message == "file is empty":
        # Claude Code reads an empty (or blank) settings file as no settings and says nothing (2.1.332).
        return ok(f"{target.role}: empty, so no settings from it", where)
    if doc.state == "invalid-json":
        return _invalid_json(target, doc.json_error, copies, encoding)
    if not isinstance(doc.data, dict):
        return fail(
            f"{target.role} is JSON but not an object (found {json_type(doc.data)})",
            f"{where}: top level is {json_type(doc.data)}",
            remediation=f"{CONSEQUENCE[target.kind]} The file must hold one JSON object: {{ ... }}.",
            docs=DOCS_SETTINGS,
        )
    if target.kind == "settings":
        result = evaluate_settings(target, doc.data)
    elif target.kind == "mcp":
        result = _evaluate_mcp_file(target, doc.data)
    else:
        result = ok(f"{target.role}: valid JSON ({doc.size} bytes)", where)
    if encoding and result.status.value != "ok":
        return replace(result, evidence=(*result.evidence, *encoding))
    if encoding:
        return warn(
            f"{target.role} contains bytes that are not UTF-8",
            *encoding,
            remediation="Claude Code reads those bytes as U+FFFD, so the strings there are garbled. Find them with:\n"
            f"  grep -naxv '.*' '{where}'",
            docs=DOCS_SETTINGS,
        )
    return result


def _invalid_json(target: ConfigTarget, error: JsonError, copies: StateCopies | None, extra: list[str]) -> Result:
    where = str(target.path)
    evidence = [f"{where}: line {error.line}, column {error.column}: {error.message}"]
    if error.line_text:
        # ~/.claude.json and .mcp.json hold MCP env values and headers: show their lines with values masked.
        shown = error.line_text if target.kind == "settings" else mask_json_values(error.line_text)
        evidence.append(f"line {error.line}: {shown}")
        if shown == error.line_text:
            evidence.append(" " * (len(f"line {error.line}: ") + error.column - 1) + "^")
    steps = [f"{CONSEQUENCE[target.kind]}", f"{_hint(error)} Edit line {error.line}, column {error.column} of {where}."]
    if target.kind == "user-state" and copies and copies.newest_backup:
        backup = copies.newest_backup
        steps.append(
            "Or restore Claude Code's newest backup of it (from "
            f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(backup.mtime))}):\n"
            f"  cp '{where}' '{where}.broken' && cp '{backup.path}' '{where}'"
        )
    steps.append(f"Check the result with:\n  python3 -m json.tool '{where}' > /dev/null && echo valid")
    return fail(
        f"{target.role} is not valid JSON: {error.message} at line {error.line}, column {error.column}",
        *evidence,
        *extra,
        remediation="\n".join(steps),
        docs=DOCS_MCP if target.kind == "mcp" else DOCS_SETTINGS,
    )


@dataclass
class SchemaFindings:
    """What Claude Code will do with each part of one settings file (paths like `permissions.defaultMode`)."""

    dropped: list[str] = field(default_factory=list)  # the whole file is ignored
    skipped: list[str] = field(default_factory=list)  # that entry is left out, with a warning
    ignored: list[str] = field(default_factory=list)  # the value is silently replaced by the default
    unknown_keys: list[str] = field(default_factory=list)  # silently unused; listed only when close to a known key


def _close_matches(word: str, choices: list[str], cutoff: float) -> list[str]:
    import difflib  # only for a name Claude Code does not know

    return difflib.get_close_matches(word, choices, n=1, cutoff=cutoff)


def _unknown_key(name: str, known, prefix: str = "") -> str | None:
    """A line for an unknown key, or None: Claude Code ignores unknown keys, so only a likely typo is worth a word."""
    if name in MISPLACED_KEYS and not prefix:
        return f"{name}: {MISPLACED_KEYS[name]}"
    by_case = {k.lower(): k for k in known}
    close = [by_case[name.lower()]] if name.lower() in by_case else []
    close = close or _close_matches(name, list(known), 0.8)
    if not close:
        return None
    return f"{prefix}{name}: not a setting Claude Code knows, so it is ignored (did you mean {prefix}{close[0]}?)"


def _bad_value(value: object, spec: KeySpec) -> tuple[str, str] | None:
    """(kind, what is wrong) for a value the schema does not take, kind as in KeySpec.on; None when it fits."""
    if value is None and not matches(value, spec.type):
        return "null", f"expected {spec.type}, found null"
    if not matches(value, spec.type):
        if isinstance(value, list) and "string[]" in spec.type.split("|"):
            return "entry", "expected strings only, found " + ", ".join(sorted({json_type(v) for v in value}))
        return "type", f"expected {spec.type}, found {json_type(value)}"
    if spec.enum and value not in spec.enum:
        return "enum", f"{json.dumps(value)} is not one of {', '.join(json.dumps(v) for v in spec.enum)}"
    if isinstance(value, (int, float)) and not isinstance(value, bool) and (bound := out_of_range(value, spec)):
        return "range", f"{value:g} is out of range (must be {bound})"
    return None


def _record(found: SchemaFindings, outcome: str | None, spec: KeySpec, kind: str, line: str) -> None:
    if outcome == "drop":
        found.dropped.append(line)
    elif outcome == "skip":
        found.skipped.append(line)
    elif outcome == "silent" and kind != "null" and spec.ignores_invalid:
        found.ignored.append(f"{line}; Claude Code ignores this value and uses the default")


# Entries of these lists must name exactly one of these fields: a check in Claude Code's code, not in its schema's
# types, so the generator cannot read it ("Entry must have exactly one of ...", observed with 2.1.332).
ENTRY_ONE_OF: dict[str, tuple[str, ...]] = {
    "allowedMcpServers": ("serverName", "serverCommand", "serverUrl"),
    "deniedMcpServers": ("serverName", "serverCommand", "serverUrl"),
}


def _entry_problem(key: str, item: object, inner: KeySpec) -> str | None:
    if problem := _bad_value(item, inner):
        return problem[1]
    one_of = ENTRY_ONE_OF.get(key)
    if one_of and isinstance(item, dict) and sum(name in item for name in one_of) != 1:
        return f"must have exactly one of {', '.join(one_of)}"
    return None


def _check_entries(value: object, spec: KeySpec, path: str, found: SchemaFindings) -> None:
    """One bad element of a list, or one bad value of a map: Claude Code treats each by the key's `entry` rule."""
    inner = spec.items if isinstance(value, list) else spec.values if isinstance(value, dict) else None
    if inner is None or "entry" not in spec.on:
        return
    entries = enumerate(value) if isinstance(value, list) else value.items()
    for index, item in entries:
        where = f"{path}[{index}]" if isinstance(value, list) else f"{path}.{index}"
        if problem := _entry_problem(path, item, inner):
            _record(found, spec.on["entry"], spec, "entry", f"{where}: {problem}")


def _check_value(value: object, spec: KeySpec, path: str, found: SchemaFindings) -> None:
    if problem := _bad_value(value, spec):
        kind, text = problem
        _record(found, spec.on.get(kind, spec.on.get("type")), spec, kind, f"{path}: {text}")
        return
    _check_entries(value, spec, path, found)
    if isinstance(value, dict) and spec.fields:
        for name, sub in value.items():
            if name in spec.fields:
                _check_value(sub, spec.fields[name], f"{path}.{name}", found)
            elif line := _unknown_key(name, spec.fields, prefix=f"{path}."):
                found.unknown_keys.append(line)


def _check_hooks(hooks: dict, found: SchemaFindings) -> None:
    """Hooks are checked entry by entry: a bad one under PreToolUse or PermissionRequest drops the file (it may be
    what guards the permissions beside it); under other events Claude Code skips that entry."""
    for event, matchers in hooks.items():
        if event not in HOOK_EVENTS:
            close = _close_matches(event, HOOK_EVENT_ORDER, 0.6)
            suggestion = f" (did you mean {close[0]}?)" if close else ""
            line = f"hooks.{event}: unknown hook event, so its hooks never run{suggestion}"
            _record(found, HOOKS_ON["unknown_event"], SETTINGS["hooks"], "entry", line)
            continue
        on = HOOKS_ON["PreToolUse" if event in ("PreToolUse", "PermissionRequest") else "Stop"]
        for case, line in _hook_problems(event, matchers):
            _record(found, on.get(case, "drop"), SETTINGS["hooks"], "entry", line)


def _hook_problems(event: str, matchers: object):
    if not isinstance(matchers, list):
        yield "not_array", f"hooks.{event}: expected an array of matchers, found {json_type(matchers)}"
        return
    for index, matcher in enumerate(matchers):
        where = f"hooks.{event}[{index}]"
        if not isinstance(matcher, dict):
            yield "matcher_not_object", f"{where}: expected an object, found {json_type(matcher)}"
        elif not isinstance(matcher.get("hooks"), list):
            yield "hooks_not_array", f"{where}.hooks: expected an array, found {json_type(matcher.get('hooks'))}"
        elif "matcher" in matcher and not isinstance(matcher["matcher"], str):
            yield "matcher_not_string", f"{where}.matcher: expected a string, found {json_type(matcher['matcher'])}"
        else:
            for n, hook in enumerate(matcher["hooks"]):
                kind = hook.get("type") if isinstance(hook, dict) else None
                if kind not in HOOK_TYPES:
                    yield "bad_type", f'{where}.hooks[{n}]: "type" must be one of {", ".join(HOOK_TYPES)}'
                elif kind == "command" and not isinstance(hook.get("command"), str):
                    yield "no_command", f'{where}.hooks[{n}]: a "command" hook needs a "command" string'


def schema_findings(data: dict, managed: bool = False) -> SchemaFindings:
    """Each key of a settings file against the schema of the Claude Code release the data file names."""
    found = SchemaFindings()
    for key, value in data.items():
        spec = SETTINGS.get(key)
        if spec is None:
            if line := _unknown_key(key, SETTINGS):
                found.unknown_keys.append(line)
        elif spec.managed_only and not managed:
            found.skipped.append(f"{key}: only honored from managed settings, so Claude Code ignores it here")
        elif key == "hooks" and isinstance(value, dict):
            _check_hooks(value, found)
        else:
            # Claude Code reports an old name by its new one: name both, so its message and ours can be matched.
            _check_value(value, spec, f"{key} (read as {spec.alias_of})" if spec.alias_of else key, found)
    return found


def evaluate_settings(target: ConfigTarget, data: dict) -> Result:
    where = str(target.path)
    found = schema_findings(data, managed=target.id == "managed-settings")
    listed = found.dropped + found.skipped + found.ignored + found.unknown_keys
    evidence = [f"{where}: {line}" for line in listed]
    if found.dropped:
        return fail(
            f"{target.role}: {len(found.dropped)} value(s) Claude Code rejects, so it drops the whole file",
            *evidence,
            remediation=f"{CONSEQUENCE['settings']} Give each listed key a value Claude Code accepts, then check "
            f'with `claude doctor` (its "Invalid settings" section lists what it rejects).',
            docs=DOCS_HOOKS if all(line.startswith("hooks") for line in found.dropped) else DOCS_SETTINGS,
        )
    if found.skipped:
        return warn(
            f"{target.role}: Claude Code skips {len(found.skipped)} entr{'y' if len(found.skipped) == 1 else 'ies'}: "
            + ", ".join(line.split(":", 1)[0] for line in found.skipped[:3]),
            *evidence,
            remediation='Claude Code leaves out each listed entry ("These settings entries were skipped") and loads '
            "the rest of the file, so those hooks, rules or servers are not in force. Fix or remove each entry.",
            docs=DOCS_HOOKS if any(line.startswith("hooks") for line in found.skipped) else DOCS_SETTINGS,
        )
    if found.ignored or found.unknown_keys:
        return warn(
            f"{target.role}: {len(found.ignored) + len(found.unknown_keys)} setting(s) Claude Code ignores as written",
            *evidence,
            remediation="Claude Code says nothing about these: a value it cannot use is replaced by the default, and "
            "a key it does not know is ignored, so the setting you meant is not in force. Fix each listed value or "
            "rename the key.",
            docs=DOCS_SETTINGS,
        )
    return ok(f"{target.role}: valid for Claude Code {CLI_VERSION}, {len(data)} key(s)", where)


def _evaluate_mcp_file(target: ConfigTarget, data: dict) -> Result:
    where = str(target.path)
    servers = data.get("mcpServers")
    if not isinstance(servers, dict):
        return fail(
            f'{target.role}: no "mcpServers" object (found {json_type(servers)})',
            f"{where}: top-level keys {sorted(data)}",
            remediation=f"{CONSEQUENCE['mcp']} The file must look like "
            '{"mcpServers": {"name": {"command": "...", "args": []}}}; `claude mcp add --scope project` writes it.',
            docs=DOCS_MCP,
        )
    return ok(f"{target.role}: valid, {len(servers)} server(s)", where)


def evaluate_state_copies(copies: StateCopies) -> Result:
    """Leftover .claude.json.corrupted.* files: Claude Code once found ~/.claude.json corrupt."""
    if not copies.corrupted:
        return ok(f"no corrupted copies of {copies.state_file.name} left by Claude Code")
    evidence = [
        f"{c.path} ({c.size} bytes, {time.strftime('%Y-%m-%d %H:%M', time.localtime(c.mtime))})"
        for c in copies.corrupted[:10]
    ]
    state = copies.state_file
    if copies.newest_backup:
        backup = copies.newest_backup
        restore = (
            f"If settings, MCP servers or project history are missing since then, restore the newest backup "
            f"({time.strftime('%Y-%m-%d %H:%M', time.localtime(backup.mtime))}) while Claude Code is not running:\n"
            f"  cp '{state}' '{state}.before-restore' && cp '{backup.path}' '{state}'"
        )
    else:
        restore = "No backup (.claude.json.backup.*) was found to restore from."
    cleanup = "Once you have what you need from them, remove the corrupted copies:\n" + "\n".join(
        f"  rm '{c.path}'" for c in copies.corrupted[:10]
    )
    return warn(
        f"{len(copies.corrupted)} corrupted cop{'y' if len(copies.corrupted) == 1 else 'ies'} of {state.name} found",
        *evidence,
        remediation="Claude Code found ~/.claude.json corrupt (often after a crash or a full disk) and set it aside; "
        f"state written since the last good copy may be lost.\n{restore}\n{cleanup}",
        docs="https://code.claude.com/docs/en/troubleshooting",
    )
