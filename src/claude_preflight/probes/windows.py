"""Native Windows facts: Git Bash as Claude Code looks for it, the native install's folder on PATH, the managed
settings folders, and transcript path lengths against MAX_PATH.

Every Windows path goes through `Env.win_path`, so a simulation on Linux reads the same facts from a tree
(the sysroot plays drive C:). Where a fact needs the registry, `reg query` runs through `Env.run`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from claude_preflight.env import Env
from claude_preflight.probes.config import settings_documents
from claude_preflight.records import dataclass

# Claude Code 2.1.332's own order (read from its binary): CLAUDE_CODE_GIT_BASH_PATH when its name is one of
# these and it exists, then the two Program Files places, then `git` on PATH with ..\..\bin\bash.exe.
BASH_NAMES = ("bash.exe", "sh.exe", "bash", "sh")
GIT_BASH_PLACES = (r"C:\Program Files\Git\bin\bash.exe", r"C:\Program Files (x86)\Git\bin\bash.exe")
POWERSHELL = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"
LEGACY_MANAGED = r"C:\ProgramData\ClaudeCode"  # deprecated in 2.1.2; 2.1.332 no longer reads it
MANAGED_FILES = ("managed-settings.json", "managed-mcp.json", "CLAUDE.md", "managed-settings.d")
MAX_PATH = 260
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_LONG_PATHS = re.compile(r"LongPathsEnabled\s+REG_DWORD\s+0x([0-9a-fA-F]+)")


def _windows_file(env: Env, spelled: str) -> Path:
    """A path as a Windows user writes it (C:\\...) mapped to where it is read; other spellings as they are."""
    return env.win_path(spelled) if _DRIVE.match(spelled) else Path(spelled)


def _exists(env: Env, path: Path) -> bool:
    try:
        return env.exists(path)
    except (OSError, ValueError):
        return False


# -- Git Bash ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GitBash:
    variable: str | None  # CLAUDE_CODE_GIT_BASH_PATH as set
    variable_from: str | None  # "environment" or the settings file whose `env` sets it
    variable_fault: str | None  # "not-bash" (its name is not bash/sh), "missing" (no such file), None
    found: str | None  # the bash.exe Claude Code would use
    found_by: str | None  # "variable", "program-files", "git-on-path"
    powershell: str | None  # what Claude Code falls back to without Git Bash (2.1.86+)


def _variable(env: Env, max_bytes: int) -> tuple[str | None, str | None]:
    """CLAUDE_CODE_GIT_BASH_PATH from the settings `env` that wins (Claude Code applies it to its own environment
    at start; #13202 lists it as a documented place), else from the environment."""
    for target, document in settings_documents(env, max_bytes):
        value = (
            document.get("env", {}).get("CLAUDE_CODE_GIT_BASH_PATH") if isinstance(document.get("env"), dict) else None
        )
        if isinstance(value, str) and value:
            return value, str(target.path)
    value = env.environ.get("CLAUDE_CODE_GIT_BASH_PATH") or None
    return value, "environment" if value else None


def git_bash(env: Env, max_bytes: int = 1 << 20) -> GitBash:
    variable, source = _variable(env, max_bytes)
    fault = None

    def found(path: str | None, how: str | None) -> GitBash:
        return GitBash(variable, source, fault, path, how, _powershell(env))

    if variable:
        name = variable.replace("\\", "/").rsplit("/", 1)[-1].lower()
        if name not in BASH_NAMES:
            fault = "not-bash"
        elif _exists(env, _windows_file(env, variable)):
            return found(variable, "variable")
        else:
            fault = "missing"
    for place in GIT_BASH_PLACES:
        if _exists(env, env.win_path(place)):
            return found(place, "program-files")
    git = env.which("git.exe") or env.which("git")
    if git:
        bash = Path(git).parent.parent / "bin" / "bash.exe"
        if _exists(env, bash):
            return found(str(bash), "git-on-path")
    return found(None, None)


def _powershell(env: Env) -> str | None:
    found = env.which("pwsh.exe") or env.which("powershell.exe")
    if found:
        return found
    return POWERSHELL if _exists(env, env.win_path(POWERSHELL)) else None


# -- %USERPROFILE%\.local\bin on PATH --------------------------------------------------------------------------
@dataclass(frozen=True)
class LocalBin:
    directory: Path  # where the native installer puts claude.exe
    shown: str  # as a Windows user knows it: %USERPROFILE%\.local\bin
    has_claude: bool
    on_path: bool
    path_entries: int


def _same_dir(a: str, b: str) -> bool:
    """Windows compares PATH entries without case and trailing separators."""
    return a.replace("\\", "/").rstrip("/").lower() == b.replace("\\", "/").rstrip("/").lower()


def local_bin(env: Env) -> LocalBin:
    directory = env.home / ".local" / "bin"
    entries = [e.strip().strip('"') for e in env.path_dirs() if e.strip()]
    profile = env.environ.get("USERPROFILE")
    spellings = [str(directory)] + ([profile.rstrip("\\/") + "\\.local\\bin"] if profile else [])
    on_path = any(_same_dir(entry.replace("%USERPROFILE%", profile or ""), s) for entry in entries for s in spellings)
    return LocalBin(
        directory, r"%USERPROFILE%\.local\bin", _exists(env, directory / "claude.exe"), on_path, len(entries)
    )


# -- managed settings --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ManagedPlaces:
    current: Path  # C:\Program Files\ClaudeCode (read by Claude Code)
    current_files: tuple[str, ...]
    legacy: Path  # C:\ProgramData\ClaudeCode (deprecated in 2.1.2, not read by 2.1.332)
    legacy_files: tuple[str, ...]


def managed_places(env: Env) -> ManagedPlaces:
    current, legacy = env.managed_dir, env.win_path(LEGACY_MANAGED)
    return ManagedPlaces(
        current,
        tuple(n for n in MANAGED_FILES if _exists(env, current / n)),
        legacy,
        tuple(n for n in MANAGED_FILES if _exists(env, legacy / n)),
    )


# -- long paths --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LongPaths:
    enabled: bool | None  # HKLM\SYSTEM\CurrentControlSet\Control\FileSystem LongPathsEnabled = 1; None: unknown
    read_error: str | None  # why it is unknown
    longest: int  # the longest transcript path, as Windows spells it (characters)
    over: tuple[tuple[str, int], ...]  # transcripts past MAX_PATH, longest first (Windows spelling, length)
    over_count: int
    project_estimate: int  # at least this long: a transcript of the checked project


REG_KEY = r"HKLM\SYSTEM\CurrentControlSet\Control\FileSystem"


def long_paths_enabled(env: Env, timeout: float) -> tuple[bool | None, str | None]:
    """LongPathsEnabled as `reg query` prints it; a missing value is Windows' default, 0."""
    reg = env.system_command("reg")
    if not reg:
        return None, "reg.exe not found"
    try:
        run = env.run([reg, "query", REG_KEY, "/v", "LongPathsEnabled"], timeout=timeout)
    except OSError as exc:
        return None, f"reg query could not run: {exc}"
    if run.timed_out:
        return None, f"reg query did not answer within {timeout:g} s"
    found = _LONG_PATHS.search(run.stdout)
    if found:
        return int(found.group(1), 16) == 1, None
    if run.returncode == 1 and "unable to find" in (run.stdout + run.stderr):
        return False, None  # the value was never set: long paths are off
    return None, f"reg query: {run.error_line}"


def windows_length(env: Env, path: Path) -> tuple[str, int]:
    """A path under the home as Windows spells it (%USERPROFILE% when known, backslashes) and its length."""
    profile = env.environ.get("USERPROFILE")
    try:
        relative = Path(path).relative_to(env.home)
    except ValueError:
        return str(path), len(str(path))
    if profile and _DRIVE.match(profile):
        spelled = "\\".join([profile.rstrip("\\/"), *relative.parts])
    else:
        spelled = str(path)
    return spelled, len(spelled)


def encoded_project(spelled: str) -> str:
    """The project folder name under projects/: every character that is not a letter or digit becomes '-'."""
    return re.sub(r"[^A-Za-z0-9]", "-", spelled)


def long_paths(env: Env, transcript_paths: Iterable[Path], timeout: float) -> LongPaths:
    enabled, error = long_paths_enabled(env, timeout)
    longest, over = 0, []  # a stream: 100k sessions are never held as a list of paths
    for path in transcript_paths:
        measured = windows_length(env, path)
        longest = max(longest, measured[1])
        if measured[1] > MAX_PATH:
            over.append(measured)
    over.sort(key=lambda x: -x[1])
    project, _ = windows_length(env, env.project)
    # Claude Code cuts folder names over 200 characters (adding a hash): a lower bound, not the exact length.
    folder = env.config_dir / "projects" / encoded_project(project)[:200] / ("0" * 36 + ".jsonl")
    return LongPaths(enabled, error, longest, tuple(over[:5]), len(over), windows_length(env, folder)[1])
