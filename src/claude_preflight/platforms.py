"""Which checks apply on which system: a check listed here for a platform ends `skip` there, with the reason.

Decided by `Env.platform` (the system being judged, `--platform` in a simulation), never by the system this
Python runs on. A skip is said before any probe runs, so a POSIX-only probe never starts on Windows.
"""

from __future__ import annotations

_ACL = (
    "Windows decides access through ACLs, not owner and mode bits: st_uid and os.access cannot tell whether "
    "Claude Code may write here (not checked on Windows yet)"
)

NOT_ON: dict[str, dict[str, str]] = {
    "win32": {
        "permissions.path": _ACL,
        "permissions.ownership": _ACL,
        "memory.cgroup": "cgroups are Linux's: native Windows has none",
        "memory.oom-kills": "the OOM killer and its kernel log are Linux's: Windows fails the allocation instead",
        "memory.wsl": "native Windows is not WSL2: run claude-preflight inside the WSL distribution to check its VM",
        "memory.claude-processes": "orphans are found by POSIX parentage and uid (ppid 1, euid): not ported to Windows",
        "memory.killed-sessions": "a live session is told from a reused pid by /proc/<pid>/stat (Linux only)",
        "install.node": "Node's place on Windows (nvm-windows, %APPDATA%\\npm) is not checked yet",
        "install.auto-update": "the npm prefix's ownership is a POSIX question: on Windows it is an ACL",
        "install.ripgrep": "the bundled rg.exe of the Windows build is not checked yet",
        "install.shell-snapshots": "snapshots of Git Bash on Windows are not checked yet (windows.git-bash checks bash)",
        "install.os-limits": "inotify and ulimit -n are Linux and macOS limits: Windows has neither",
        "install.cpu": "the AVX flags are read from /proc/cpuinfo (Linux only)",
        "install.terminal": "TERM and raw mode work differently in Windows consoles and mintty: not checked yet",
        "hooks.command": "Claude Code runs hook commands through Git Bash there (PowerShell without it): not judged yet",
        "hooks.status-line": "Claude Code runs the status line through Git Bash there: not judged yet",
    },
}

# Checks only one platform has: elsewhere they skip with this reason.
ONLY_ON: dict[str, tuple[str, str]] = {
    "windows.git-bash": ("win32", "only native Windows runs the Bash tool through Git for Windows"),
    "windows.path": ("win32", "only the native Windows installer puts claude.exe in %USERPROFILE%\\.local\\bin"),
    "windows.managed-settings": ("win32", "C:\\Program Files\\ClaudeCode is the Windows place for managed settings"),
    "windows.long-paths": ("win32", "the 260-character MAX_PATH limit is Windows'"),
}

NAMES = {"linux": "Linux", "darwin": "macOS", "win32": "Windows"}


def unsupported(check_id: str, platform: str) -> str | None:
    """Why a check does not run on this platform, or None when it does."""
    only = ONLY_ON.get(check_id)
    if only and only[0] != platform:
        return f"not {NAMES.get(only[0], only[0])} ({NAMES.get(platform, platform)}): {only[1]}"
    reason = NOT_ON.get(platform, {}).get(check_id)
    return f"on {NAMES.get(platform, platform)}: {reason}" if reason else None
