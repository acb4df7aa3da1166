"""Thresholds and switches: every number a rule compares against, with its default.

Each threshold is a pytest ini option (set in pytest.ini/pyproject or with `-o name=value`).
"""

from __future__ import annotations

from dataclasses import fields

from claude_preflight.records import dataclass


@dataclass(frozen=True)
class Policy:
    disk_fail_gib: float = 1.0
    disk_warn_gib: float = 5.0
    disk_warn_inodes_percent: float = 5.0
    old_session_days: float = 30.0
    config_max_mb: float = 50.0
    scan_max_entries: int = 200_000
    check_timeout_s: float = 60.0  # above mcp_timeout_s: a server that answers at 29 s is no internal error
    probe_timeout_s: float = 5.0
    mem_available_fail_gib: float = 2.0
    mem_available_warn_gib: float = 4.0
    mem_total_warn_gib: float = 8.0
    swap_used_warn_percent: float = 80.0
    pressure_warn_avg60: float = 10.0
    mac_free_warn_percent: float = 20.0
    cgroup_fail_gib: float = 2.0
    cgroup_warn_gib: float = 4.0
    wsl_min_memory_gib: float = 8.0
    wsl_min_swap_percent: float = 25.0
    claude_process_warn_count: int = 3
    claude_orphan_warn_hours: float = 24.0
    claude_rss_fail_percent: float = 50.0
    network_timeout_s: float = 10.0
    latency_samples: int = 3
    latency_warn_s: float = 1.5
    latency_fail_s: float = 5.0
    latency_spread_warn_s: float = 1.0
    oauth_expiry_warn_minutes: float = 60.0
    live_model: str = "claude-haiku-4-5"
    mcp_timeout_s: float = 30.0  # Claude Code's own MCP_TIMEOUT default (30000 ms)
    mcp_context_warn_tokens: int = 25_000
    inotify_min_watches: int = 524_288
    inotify_min_instances: int = 256
    nofile_min: int = 4096
    snapshots_checked: int = 20
    memory_files_warn_chars: int = 15_000
    memory_files_fail_chars: int = 0  # 0: fail only where the context estimate leaves no room for a session
    context_window_tokens: int = 200_000
    system_prompt_tokens: int = 12_500  # measured: what `claude -p` 2.1.332 sends before any CLAUDE.md (chars / 4)
    session_room_tokens: int = 50_000  # answers (20k), compaction buffer (13k) and some work before compacting
    state_file_warn_mb: float = 5.0
    recent_session_days: float = 7.0
    error_repeat_count: int = 2
    transcript_warn_mb: float = 10.0
    transcript_line_warn_mb: float = 1.0
    image_max_px: int = 2000
    history_old_warn_gb: float = 2.0
    offline: bool = False
    live: bool = False
    mcp_start: bool = True
    fix: bool = False
    all_sessions: bool = False

    @property
    def config_max_bytes(self) -> int:
        return int(self.config_max_mb * 1e6)

    @property
    def line_limit_bytes(self) -> int:
        return int(self.transcript_line_warn_mb * 1e6)

    @property
    def session_days(self) -> float:
        """How far back the session checks read: 0 (everything) with --all-sessions."""
        return 0 if self.all_sessions else self.recent_session_days

    @classmethod
    def from_strings(cls, values: dict[str, str], **switches: bool) -> Policy:
        """Build from ini strings; unknown names are ignored, bad numbers raise ValueError."""
        kwargs: dict = dict(switches)
        for f in fields(cls):
            if f.name in values and values[f.name] not in (None, ""):
                kind = type(getattr(cls, f.name))
                kwargs[f.name] = values[f.name] if kind is str else kind(float(values[f.name]))
        return cls(**kwargs)


# name -> help text; the defaults come from Policy itself.
THRESHOLDS: dict[str, str] = {
    "disk_fail_gib": "fail when a filesystem Claude Code writes to has less free space (GiB)",
    "disk_warn_gib": "warn when a filesystem Claude Code writes to has less free space (GiB)",
    "disk_warn_inodes_percent": "warn when fewer inodes than this percentage are free",
    "old_session_days": "transcripts older than this many days count as old (disk evidence, cleanup command)",
    "config_max_mb": "config files larger than this are reported, not parsed (MB)",
    "scan_max_entries": "at most this many directory entries are visited by one scan",
    "check_timeout_s": "a check still running after this many seconds fails as an internal error",
    "probe_timeout_s": "timeout for each command a probe runs (dmesg, claude --version, cmd.exe)",
    "mem_available_fail_gib": "fail when less memory than this is available (GiB)",
    "mem_available_warn_gib": "warn when less memory than this is available (GiB)",
    "mem_total_warn_gib": "warn when the machine has less RAM than this (GiB)",
    "swap_used_warn_percent": "warn when more swap than this percentage is in use",
    "pressure_warn_avg60": "warn when memory pressure (PSI some avg60) is over this",
    "mac_free_warn_percent": "macOS: warn when memory_pressure's system-wide free percentage is under this",
    "cgroup_fail_gib": "fail when this process's cgroup memory limit is under this (GiB)",
    "cgroup_warn_gib": "warn when this process's cgroup memory limit is under this (GiB)",
    "wsl_min_memory_gib": "warn when a WSL2 VM has less memory than this (GiB)",
    "wsl_min_swap_percent": "warn when a WSL2 VM's swap is under this percentage of its memory",
    "claude_process_warn_count": "warn when you run more Claude Code processes than this",
    "claude_orphan_warn_hours": "warn about orphaned Claude Code sessions older than this (hours)",
    "network_timeout_s": "timeout of each network phase (DNS, connect, TLS, first byte) in seconds",
    "latency_samples": "how many requests the latency check times (they run at once)",
    "latency_warn_s": "warn when the first byte from the API takes longer (seconds, median)",
    "latency_fail_s": "fail when the first byte from the API takes longer (seconds, median)",
    "latency_spread_warn_s": "warn when the latency samples differ by more than this (seconds)",
    "oauth_expiry_warn_minutes": "warn when the OAuth login expires within this many minutes",
    "live_model": "the model the --live streaming check asks for one token",
    "mcp_timeout_s": "how long an MCP server may take to answer initialize and tools/list (MCP_TIMEOUT wins when set)",
    "mcp_context_warn_tokens": "warn when the tool definitions of all MCP servers together exceed this many tokens",
    "inotify_min_watches": "warn when fs.inotify.max_user_watches is under this",
    "inotify_min_instances": "warn when fs.inotify.max_user_instances is under this",
    "nofile_min": "warn when the soft open-file limit (ulimit -n) is under this",
    "snapshots_checked": "how many of the newest shell snapshots are parsed",
    "claude_rss_fail_percent": "fail when your Claude Code processes together use more than this percentage of RAM",
    "memory_files_warn_chars": "warn when the CLAUDE.md files that load for the project total more characters",
    "memory_files_fail_chars": "fail when the CLAUDE.md files total more characters (0: only when the context "
    "estimate leaves less than session_room_tokens)",
    "context_window_tokens": "the context window the estimate assumes (tokens)",
    "system_prompt_tokens": "Claude Code's system prompt and built-in tool definitions, in the estimate (tokens)",
    "session_room_tokens": "fail when the memory files, MCP tools and system prompt leave less than this (tokens)",
    "state_file_warn_mb": "warn when ~/.claude.json is larger (MB)",
    "recent_session_days": "the session checks read transcripts changed in this many days (--all-sessions: all)",
    "error_repeat_count": "a session with this many API errors of one cause (or one that gave up) counts as failing",
    "transcript_warn_mb": "warn about transcripts larger than this (MB): --resume becomes slow",
    "transcript_line_warn_mb": "warn about transcript lines longer than this (MB); longer lines are measured, not parsed",
    "image_max_px": "an image in a transcript wider or taller than this (px) fails every later request",
    "history_old_warn_gb": "warn when sessions older than old_session_days take more than this (GB)",
}


def default(name: str) -> str:
    return str(getattr(Policy, name))
