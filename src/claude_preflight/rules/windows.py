"""Rules for native Windows: Git Bash, the native install on PATH, managed settings folders, long paths.

The texts Claude Code prints are quoted from its 2.1.332 binary and from public reports (issue numbers of
anthropics/claude-code beside each).
"""

from __future__ import annotations

import re

from claude_preflight.outcome import Result, fail, ok, skip, warn
from claude_preflight.probes.windows import MAX_PATH, GitBash, LocalBin, LongPaths, ManagedPlaces

ISSUES = "https://github.com/anthropics/claude-code/issues"
DOCS_SETUP = "https://code.claude.com/docs/en/setup"
DOCS_SETTINGS = "https://code.claude.com/docs/en/settings"

# Releases up to this one stop at start without Git Bash (#39692 shows 2.1.85 doing it); the PowerShell
# fallback was shipped by April 2026 (#53068) and is in 2.1.330 and 2.1.332 (read from their binaries).
LAST_REQUIRING_GIT_BASH = (2, 1, 85)

OLD_TEXT = (
    "Claude Code on Windows requires git-bash (https://git-scm.com/downloads/win). If installed but not in PATH, "
    "set environment variable pointing to your bash.exe, similar to: CLAUDE_CODE_GIT_BASH_PATH=C:\\Program "
    "Files\\Git\\bin\\bash.exe"
)
NEW_TEXT = "Claude Code on Windows requires either Git for Windows (for bash) or PowerShell"

INSTALL_GIT = """\
Install Git for Windows (https://git-scm.com/downloads/win), or point Claude Code at the bash.exe you have, in
PowerShell (then open a new terminal):
  [Environment]::SetEnvironmentVariable("CLAUDE_CODE_GIT_BASH_PATH", "C:\\Program Files\\Git\\bin\\bash.exe", "User")
Find it with `where.exe git`: bash.exe is in the bin folder beside Git's cmd folder."""


def _version(text: str | None) -> tuple[int, ...] | None:
    found = re.findall(r"\d+", text or "")[:3]
    return tuple(int(n) for n in found) if len(found) == 3 else None


def evaluate_git_bash(facts: GitBash, claude_version: str | None) -> Result:
    evidence = [
        f"CLAUDE_CODE_GIT_BASH_PATH={facts.variable} (from {facts.variable_from})"
        if facts.variable
        else "CLAUDE_CODE_GIT_BASH_PATH unset"
    ]
    if facts.found:
        evidence.append(f"Git Bash Claude Code uses: {facts.found} (found by {facts.found_by})")
    if facts.powershell:
        evidence.append(f"PowerShell: {facts.powershell}")
    fault = {
        "missing": "not found",
        "not-bash": "is not a bash/sh binary",
    }.get(facts.variable_fault or "")
    if facts.found and not fault:
        return ok(f"Git Bash found: {facts.found}", *evidence)
    if facts.found:
        return warn(
            f'CLAUDE_CODE_GIT_BASH_PATH "{facts.variable}" {fault}; Claude Code falls back to {facts.found}',
            *evidence,
            remediation=(
                f'Claude Code logs `CLAUDE_CODE_GIT_BASH_PATH "{facts.variable}" {fault}; falling back to '
                "auto-detection` and uses the Git Bash it finds itself. Point the variable at bash.exe or remove it "
                "(PowerShell, then a new terminal):\n"
                '  [Environment]::SetEnvironmentVariable("CLAUDE_CODE_GIT_BASH_PATH", $null, "User")'
            ),
            docs=f"{ISSUES}/8674",
        )
    if fault:
        evidence.append(f"CLAUDE_CODE_GIT_BASH_PATH {fault}")
    version = _version(claude_version)
    if version and version <= LAST_REQUIRING_GIT_BASH:
        return fail(
            f"no Git Bash: Claude Code {claude_version} stops at start with 'Claude Code on Windows requires git-bash'",
            *evidence,
            f"what it prints: {OLD_TEXT}",
            remediation=f"Claude Code {claude_version} does not start without Git Bash (#25593, #37908, #39692).\n"
            + INSTALL_GIT,
            docs=f"{ISSUES}/25593",
        )
    if not facts.powershell:
        return fail(
            "neither Git Bash nor PowerShell: Claude Code cannot run shell commands",
            *evidence,
            f"what it prints: {NEW_TEXT}",
            remediation=INSTALL_GIT + "\nOr install PowerShell 7: https://aka.ms/powershell",
            docs=f"{ISSUES}/53068",
        )
    older = "" if version else " (releases up to 2.1.85 refuse to start without it)"
    return warn(
        "no Git Bash: Claude Code runs without its Bash tool (PowerShell only)" + older,
        *evidence,
        remediation=(
            "Claude Code logs 'Git Bash not found; BashTool will be unavailable' and runs commands in PowerShell (#53068): "
            'hooks, status lines and plugins written for bash (`"shell": "bash"`) fail.\n' + INSTALL_GIT
        ),
        docs=f"{ISSUES}/53068",
    )


def evaluate_local_bin(facts: LocalBin, runs: str | None) -> Result:
    evidence = [f"{facts.shown} = {facts.directory}", f"PATH has {facts.path_entries} entries"]
    if runs:
        evidence.append(f"`claude` on PATH: {runs}")
    if not facts.has_claude:
        return skip(f"no native install: no claude.exe in {facts.shown}", *evidence)
    if facts.on_path:
        return ok(f"{facts.shown} (the native install) is on PATH", *evidence)
    add = (
        "Add it to your user PATH in PowerShell, then open a new terminal:\n"
        '  [Environment]::SetEnvironmentVariable("Path", [Environment]::GetEnvironmentVariable("Path", "User") + '
        '";$env:USERPROFILE\\.local\\bin", "User")'
    )
    if runs:
        return warn(
            f"{facts.shown} is not on PATH: `claude` starts {runs}, not the native install",
            *evidence,
            remediation="The native installer put claude.exe in a folder that is not on PATH, so another "
            "installation runs (and updates) instead. " + add + "\nThen remove the other installation.",
            docs=f"{ISSUES}/42337",
        )
    return fail(
        f"{facts.shown} is not on PATH: 'claude' is not recognized in a new terminal",
        *evidence,
        remediation="The native installer finished ('Native installation exists but C:\\Users\\<username>\\.local\\bin "
        "is not in your PATH', #16357) but did not add the folder to PATH (#42337, #21365): a new terminal "
        "answers 'The term 'claude' is not recognized as the name of a cmdlet'. " + add,
        docs=f"{ISSUES}/42337",
    )


def evaluate_managed(facts: ManagedPlaces) -> Result:
    evidence = [
        f"{facts.current}: {', '.join(facts.current_files) or 'nothing'}",
        f"{facts.legacy}: {', '.join(facts.legacy_files) or 'nothing'}",
    ]
    if not facts.current_files and not facts.legacy_files:
        return skip("no managed settings on this machine", *evidence)
    if not facts.legacy_files:
        return ok(f"managed settings in {facts.current} (config.file checks their contents)", *evidence)
    stale = [n for n in facts.legacy_files if n not in facts.current_files]
    move = (
        "Claude Code deprecated C:\\ProgramData\\ClaudeCode in 2.1.2 ('administrators should migrate to "
        "C:\\Program Files\\ClaudeCode', #18720); 2.1.332 reads only C:\\Program Files\\ClaudeCode. As an "
        "administrator (PowerShell):\n"
        '  New-Item -ItemType Directory -Force "C:\\Program Files\\ClaudeCode"\n'
        '  Move-Item "C:\\ProgramData\\ClaudeCode\\*" "C:\\Program Files\\ClaudeCode\\"'
    )
    if stale:
        return warn(
            f"managed {', '.join(stale)} only in the old C:\\ProgramData\\ClaudeCode: Claude Code ignores it, "
            "the policy is not applied",
            *evidence,
            remediation=move,
            docs=DOCS_SETTINGS,
        )
    return warn(
        "an old copy of the managed settings is left in C:\\ProgramData\\ClaudeCode (ignored)",
        *evidence,
        remediation="Claude Code reads C:\\Program Files\\ClaudeCode only: edits to the old copy change nothing. "
        'Remove it (as an administrator): Remove-Item -Recurse "C:\\ProgramData\\ClaudeCode"',
        docs=DOCS_SETTINGS,
    )


def evaluate_long_paths(facts: LongPaths) -> Result:
    state = {True: "LongPathsEnabled = 1", False: "LongPathsEnabled = 0 (or unset)", None: "LongPathsEnabled unknown"}
    evidence = [
        state[facts.enabled] + (f" ({facts.read_error})" if facts.read_error else ""),
        f"longest transcript path: {facts.longest} characters (MAX_PATH is {MAX_PATH})",
        f"a transcript of this project: at least {facts.project_estimate} characters",
        *(f"{length} characters: {path}" for path, length in facts.over),
    ]
    too_long = facts.over_count or facts.project_estimate > MAX_PATH
    if not too_long:
        return ok(f"transcript paths fit in {MAX_PATH} characters", *evidence)
    if facts.enabled:
        return ok(f"transcript paths over {MAX_PATH} characters, and long paths are enabled", *evidence)
    what = (
        f"{facts.over_count} transcript path(s) over {MAX_PATH} characters"
        if facts.over_count
        else f"this project's transcripts will have paths over {MAX_PATH} characters"
    )
    return warn(
        what + " and Windows long-path support is " + ("off" if facts.enabled is False else "unknown"),
        *evidence,
        remediation=(
            "Programs that are not long-path aware cannot open, copy or back up these files (#91935: 472-character "
            "session paths, 117 files past the limit, silently left out of a git backup). Enable long paths as an "
            "administrator (PowerShell), then sign out and in:\n"
            "  New-ItemProperty -Path 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\FileSystem' "
            "-Name LongPathsEnabled -Value 1 -PropertyType DWORD -Force\n"
            "git needs its own switch: git config --global core.longpaths true. Or work from a shorter folder "
            "(C:\\src\\project): the project's path is part of every transcript's path."
        ),
        docs=f"{ISSUES}/91935",
    )
