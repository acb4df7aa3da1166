"""Rules for command hooks and status lines: would the command start, and what does Claude Code do when it cannot."""

from __future__ import annotations

import math

from claude_preflight.outcome import Result, fail, ok, skip, warn
from claude_preflight.probes.hooks import CommandFacts, HookEntry, Part

DOCS = "https://code.claude.com/docs/en/hooks"
LOCKOUT_ISSUE = "https://github.com/anthropics/claude-code/issues/80697"
NOT_FOUND_ISSUE = "https://github.com/anthropics/claude-code/issues/50839"
DOCS_STATUS_LINE = "https://code.claude.com/docs/en/statusline"
# Events where exit code 2 refuses what the hook guards: the tool call, the permission, the prompt.
BLOCKING = ("PreToolUse", "PermissionRequest", "UserPromptSubmit")
KEEPS_GOING = {"Stop", "SubagentStop"}  # exit 2 there means "do not stop yet"


def _lockout(entry: HookEntry) -> str:
    tools = "every tool call" if not entry.matcher or entry.matcher == "*" else f"every call of {entry.matcher}"
    if entry.event == "PreToolUse":
        return f'{tools} is blocked (exit code 2 means "deny" to Claude Code) for the whole session'
    if entry.event == "PermissionRequest":
        return f'the permission request of {tools} is denied (exit code 2 means "deny")'
    return (
        'every prompt is refused before it reaches the model: Claude Code 2.1.332 printed "UserPromptSubmit '
        "operation blocked by hook: ... can't open file\" and `claude -p` exited 0 without an answer"
    )


def _where(entry: HookEntry) -> str:
    return f"{entry.file}: {entry.pointer} ({entry.event})"


def _remove(entry: HookEntry) -> str:
    if entry.plugin:
        return f"or disable the plugin that brings it: claude plugin disable {entry.plugin}"
    return f"or remove the entry {entry.pointer} from {entry.file}"


def _trust_note(entry: HookEntry) -> list[str]:
    if entry.trusted is False:
        return [
            "this folder's trust dialog was never accepted: interactive Claude Code asks before running anything "
            "from it, but `claude -p` runs these hooks without asking (seen with 2.1.332)"
        ]
    return []


def _bad_timeout(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, bool) or not isinstance(value, int | float):
        return True
    return not math.isfinite(value) or value <= 0


def _missing(part: Part, facts: CommandFacts) -> tuple[str, str, list[str]]:
    """(what is missing, how to fix it, evidence) for one part that cannot start."""
    if part.program_state == "missing":
        where = "" if "/" in part.program else " on the PATH Claude Code gives hooks"
        return (
            f"`{part.program}` is not found{where}",
            f"Install {part.program}, or give its full path in the command"
            if "/" not in part.program
            else f"Create {part.program} (and `chmod +x` it)",
            [] if "/" in part.program else [f"PATH: {facts.path}"],
        )
    if part.program_state == "not-executable":
        return f"{part.resolved} is not executable", f"Make it executable: chmod +x {part.resolved}", []
    if part.program_state == "directory":
        return f"{part.resolved} is a directory", "Point the command at the script inside it", []
    if part.shebang_state == "carriage-return":
        return (
            f"{part.resolved} was saved with Windows line endings: its first line asks for `{part.shebang_program}\\r`",
            f"Convert it to Unix line endings: sed -i 's/\\r$//' {part.resolved}",
            [f"first line: {part.shebang!r}"],
        )
    if part.shebang_state == "missing":
        return (
            f"{part.resolved} starts with `{part.shebang}`, and `{part.shebang_program}` is not found",
            f"Install {part.shebang_program}, or change the first line of {part.resolved}",
            [f"PATH: {facts.path}"],
        )
    kind = "directory, not a file" if part.script_state == "directory" else "missing"
    if "$" in (part.script or ""):  # exec form ("args"): no shell expands the variable
        fix = (
            '"args" are passed without a shell, so a $VARIABLE in them stays as written: give the script\'s path '
            'relative to the project (hooks run there), or write the hook as one shell "command" line'
        )
    else:
        fix = f"Create {part.script}"
    return f"the script {part.script} that {part.program} should run is {kind}", fix, []


def _runs(facts: CommandFacts) -> list[str]:
    """What /bin/sh would start for each part (builtins run inside the shell)."""
    return [
        f"runs: {p.resolved} {' '.join(p.words[1:])}".rstrip()
        for p in facts.parts
        if p.resolved and p.program_state != "builtin"
    ]


def _broken(facts: CommandFacts, evidence: list[str]) -> tuple[str, str]:
    """(what cannot start, the fixes) of the broken parts; their evidence is added to `evidence`."""
    found = [_missing(p, facts) for p in facts.broken]
    for _, _, extra in found:
        evidence += [e for e in extra if e not in evidence]
    return "; ".join(f[0] for f in found), "\n".join(f"  {f[1]}" for f in found)


def _exit_words(code: int | None) -> str:
    return "a non-zero code" if code is None else f"code {code}"


def evaluate_hook(entry: HookEntry, facts: CommandFacts | None) -> Result:
    """One command hook: would /bin/sh start it, and if not, what Claude Code makes of the failure."""
    evidence = [_where(entry), *_trust_note(entry)]
    if entry.inactive:
        return skip(f"{entry.id}: Claude Code does not run it: {entry.inactive}", *evidence)
    if _bad_timeout(entry.timeout):
        return warn(
            f"{entry.id}: timeout {entry.timeout!r} is not a number above 0, so Claude Code ignores the hook",
            *evidence,
            remediation='Claude Code skips this hook at every start ("Invalid command hook '
            '(timeout: ...); entry ignored"), so it never runs. Give "timeout" a number of seconds above 0, '
            f"{_remove(entry)}.",
            docs=DOCS,
        )
    if not isinstance(entry.command, str) or not entry.command.strip() or facts is None:
        return skip(f"{entry.id}: no command string (config.file reports malformed hook entries)", *evidence)
    if facts.unparsed:
        return skip(
            f"{entry.id}: not checked: {facts.unparsed}; claude-preflight never runs hooks",
            *evidence,
            f"command: {facts.command}",
        )
    evidence.append(f"command: {facts.command}")
    evidence += _runs(facts)
    if facts.unset:
        evidence.append(f"unset variables (empty when the hook runs): {', '.join(facts.unset)}")
    if not facts.broken:
        return ok(f"{entry.id}: {' and '.join(p.program for p in facts.parts) or 'the command'} starts", *evidence)
    what, fixes = _broken(facts, evidence)
    code = facts.exit_code
    if code == 2 and entry.event in BLOCKING:
        return fail(
            f"{entry.id}: {what}: the hook exits 2 and {entry.event} locks you out",
            *evidence,
            remediation=f"The command fails before it starts and exits with code 2, which the hook protocol "
            f"reads as a deliberate block: {_lockout(entry)}. Fix it:\n{fixes}\n  {_remove(entry)}.",
            docs=LOCKOUT_ISSUE,
        )
    if code == 2 and entry.event in KEEPS_GOING:
        effect = (
            "it exits 2, which tells Claude Code not to stop: the model gets the error text back and carries on "
            "at the end of every turn"
        )
    elif code == 0:
        effect = "the rest of the line hides the failure, so the hook silently does nothing"
    else:
        effect = (
            f'it exits with {_exit_words(code)} at every {entry.event}: Claude Code shows "{entry.event} hook '
            'error ... Failed with non-blocking status code" each time and goes on without the hook'
        )
    return warn(
        f"{entry.id}: {what}",
        *evidence,
        remediation=f"The hook cannot start: {effect}. Fix it:\n{fixes}\n  {_remove(entry)}.",
        docs=NOT_FOUND_ISSUE,
    )


def evaluate_status_line(entry: HookEntry, facts: CommandFacts | None) -> Result:
    """The status line command Claude Code runs after every message: it should start."""
    evidence = [f"{entry.file}: {entry.pointer}", *_trust_note(entry)]
    if entry.inactive:
        return skip(f"{entry.pointer}: Claude Code does not run it: {entry.inactive}", *evidence)
    if not isinstance(entry.command, str) or not entry.command.strip() or facts is None:
        return skip(f"{entry.pointer}: no command string (config.file reports malformed settings)", *evidence)
    if facts.unparsed:
        return skip(f"{entry.pointer}: not checked: {facts.unparsed}", *evidence, f"command: {facts.command}")
    evidence.append(f"command: {facts.command}")
    evidence += _runs(facts)
    if not facts.broken:
        return ok(f"{entry.pointer}: {' and '.join(p.program for p in facts.parts) or 'the command'} starts", *evidence)
    what, fixes = _broken(facts, evidence)
    return warn(
        f"{entry.pointer}: {what}",
        *evidence,
        remediation=f"Claude Code runs this command after every message: it fails each time and the status "
        f'line stays empty. Fix it:\n{fixes}\n  or remove "{entry.pointer}" from {entry.file}.',
        docs=DOCS_STATUS_LINE,
    )
