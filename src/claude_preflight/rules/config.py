"""Rules for config files: parse errors, wrong types, unknown keys, leftover corrupt copies."""

from __future__ import annotations

import difflib
import time
from dataclasses import dataclass, field, replace

from claude_preflight.outcome import Result, fail, ok, skip, warn
from claude_preflight.probes.config import ConfigTarget, StateCopies
from claude_preflight.probes.files import MAX_DEPTH, JsonError, JsonFile
from claude_preflight.redact import mask_json_values
from claude_preflight.rules.settings_schema import (
    HOOK_EVENTS,
    MISPLACED_KEYS,
    PERMISSIONS_KEYS,
    SETTINGS_KEYS,
    json_type,
    matches,
)

DOCS_SETTINGS = "https://code.claude.com/docs/en/settings"
DOCS_HOOKS = "https://code.claude.com/docs/en/hooks"
DOCS_MCP = "https://code.claude.com/docs/en/mcp"

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
    wrong_types: list[str] = field(default_factory=list)
    unknown_events: list[str] = field(default_factory=list)
    unknown_keys: list[str] = field(default_factory=list)
    soft_types: list[str] = field(default_factory=list)  # values Claude Code may coerce


def _unknown_key(name: str, known, prefix: str = "") -> str:
    if name in MISPLACED_KEYS and not prefix:
        return f"{name}: {MISPLACED_KEYS[name]}"
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    suggestion = f" (did you mean {prefix}{close[0]}?)" if close else ""
    return f"{prefix}{name}: not a setting Claude Code knows{suggestion}"


def _check_types(data: dict, known: dict[str, str], findings: SchemaFindings, prefix: str = "") -> None:
    for key, value in data.items():
        if key not in known:
            findings.unknown_keys.append(_unknown_key(key, known, prefix))
        elif not matches(value, known[key]):
            findings.wrong_types.append(f"{prefix}{key}: expected {known[key]}, found {json_type(value)}")


def _check_hooks(hooks: dict, findings: SchemaFindings) -> None:
    for event, matchers in hooks.items():
        if event not in HOOK_EVENTS:
            close = difflib.get_close_matches(event, list(HOOK_EVENTS), n=1, cutoff=0.6)
            suggestion = f" (did you mean {close[0]}?)" if close else ""
            findings.unknown_events.append(f"hooks.{event}: unknown hook event{suggestion}")
            continue
        if not isinstance(matchers, list):
            findings.wrong_types.append(f"hooks.{event}: expected array, found {json_type(matchers)}")
            continue
        for index, matcher in enumerate(matchers):
            where = f"hooks.{event}[{index}]"
            if not isinstance(matcher, dict):
                findings.wrong_types.append(f"{where}: expected object, found {json_type(matcher)}")
            elif not isinstance(matcher.get("hooks"), list):
                findings.wrong_types.append(f"{where}.hooks: expected array, found {json_type(matcher.get('hooks'))}")
            elif "matcher" in matcher and not isinstance(matcher["matcher"], str):
                findings.wrong_types.append(f"{where}.matcher: expected string, found {json_type(matcher['matcher'])}")
            else:
                for n, hook in enumerate(matcher["hooks"]):
                    if not isinstance(hook, dict) or not isinstance(hook.get("type"), str):
                        findings.wrong_types.append(f'{where}.hooks[{n}]: expected an object with a "type" string')


def schema_findings(data: dict) -> SchemaFindings:
    findings = SchemaFindings()
    _check_types(data, SETTINGS_KEYS, findings)
    if isinstance(data.get("permissions"), dict):
        _check_types(data["permissions"], PERMISSIONS_KEYS, findings, prefix="permissions.")
    if isinstance(data.get("hooks"), dict):
        _check_hooks(data["hooks"], findings)
    if isinstance(data.get("env"), dict):
        for name, value in data["env"].items():
            if not isinstance(value, str):
                findings.soft_types.append(f"env.{name}: expected string, found {json_type(value)}")
    return findings


def evaluate_settings(target: ConfigTarget, data: dict) -> Result:
    where = str(target.path)
    found = schema_findings(data)
    if found.wrong_types:
        return fail(
            f"{target.role}: {len(found.wrong_types)} value(s) of the wrong type, so Claude Code drops the whole file",
            *(f"{where}: {line}" for line in found.wrong_types + found.unknown_events + found.unknown_keys),
            remediation=f"{CONSEQUENCE['settings']} Give each listed key a value of the expected type, then check "
            f'with `claude doctor` (its "Invalid settings" section lists what it rejects).',
            docs=DOCS_SETTINGS,
        )
    if found.unknown_events:
        return warn(
            f"{target.role}: hooks under unknown event names are skipped",
            *(f"{where}: {line}" for line in found.unknown_events + found.unknown_keys),
            remediation='Claude Code skips hook entries under an event it does not know ("These settings entries '
            'were skipped"), so those hooks never run. Rename each to a real event (PreToolUse, PostToolUse, '
            "Stop, SessionStart, ...).",
            docs=DOCS_HOOKS,
        )
    if found.unknown_keys or found.soft_types:
        return warn(
            f"{target.role}: {len(found.unknown_keys) + len(found.soft_types)} key(s) Claude Code will not use as written",
            *(f"{where}: {line}" for line in found.unknown_keys + found.soft_types),
            remediation="Claude Code silently ignores settings it does not know: a typo here means the setting you "
            "meant is not in force. Rename or remove each listed key; quote environment values as strings.",
            docs=DOCS_SETTINGS,
        )
    return ok(f"{target.role}: valid, {len(data)} documented key(s)", where)


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
