"""Thresholds and switches: every number a rule compares against, with its default.

Each threshold is a pytest ini option (set in pytest.ini/pyproject or with `-o name=value`).
"""

from __future__ import annotations

from dataclasses import field, fields

from claude_preflight.records import dataclass


def threshold(default, text: str):
    """A threshold: its default and what it means, written once. Policy, the ini options, `-o` checks and the
    README table (generated: `python -m claude_preflight.policy`) all read them from here."""
    return field(default=default, metadata={"help": text})


@dataclass(frozen=True)
class Policy:
    disk_fail_gib: float = threshold(1.0, "fail when a filesystem Claude Code writes to has less free space (GiB)")
    disk_warn_gib: float = threshold(5.0, "warn under this much free space (GiB)")
    disk_warn_inodes_percent: float = threshold(5.0, "warn when fewer inodes than this percentage are free")
    old_session_days: float = threshold(
        30.0, "transcripts older than this count as old (disk evidence and the cleanup command)"
    )
    config_max_mb: float = threshold(50.0, "config files larger than this are reported (warn), not parsed")
    scan_max_entries: int = threshold(200_000, "the most directory entries one scan visits")
    # above mcp_timeout_s: a server that answers at 29 s is no internal error
    check_timeout_s: float = threshold(
        60.0, "a check still running after this long fails as an internal error; the rest go on"
    )
    probe_timeout_s: float = threshold(
        5.0, "timeout of each command a probe runs (`dmesg`, `claude --version`, `cmd.exe`)"
    )
    mem_available_fail_gib: float = threshold(2.0, "fail when less memory than this is available (GiB)")
    mem_available_warn_gib: float = threshold(4.0, "warn when less memory than this is available (GiB)")
    mem_total_warn_gib: float = threshold(8.0, "warn when the machine has less RAM than this (GiB)")
    swap_used_warn_percent: float = threshold(80.0, "warn when more swap than this is in use (%)")
    pressure_warn_avg60: float = threshold(10.0, "warn when memory pressure (PSI `some avg60`) is over this")
    mac_free_warn_percent: float = threshold(
        20.0, "macOS: warn when `memory_pressure`'s system-wide free percentage is under this (%)"
    )
    cgroup_fail_gib: float = threshold(2.0, "fail when this process's cgroup memory limit is under this (GiB)")
    cgroup_warn_gib: float = threshold(4.0, "warn when the cgroup memory limit is under this (GiB)")
    wsl_min_memory_gib: float = threshold(8.0, "warn when a WSL2 VM has less memory than this (GiB)")
    wsl_min_swap_percent: float = threshold(25.0, "warn when a WSL2 VM's swap is under this share of its memory (%)")
    claude_process_warn_count: int = threshold(3, "warn when you run more Claude Code processes than this")
    claude_orphan_warn_hours: float = threshold(
        24.0, "warn about orphaned Claude Code sessions older than this (hours)"
    )
    claude_rss_fail_percent: float = threshold(
        50.0, "fail when your Claude Code processes together use more than this share of RAM (%)"
    )
    network_timeout_s: float = threshold(
        10.0, "timeout of each network phase: DNS, connect, proxy, TLS, first byte (s)"
    )
    latency_samples: int = threshold(3, "requests the latency check times (sent at once)")
    latency_warn_s: float = threshold(1.5, "warn when the API's first byte takes longer, median (s)")
    latency_fail_s: float = threshold(5.0, "fail when the API's first byte takes longer, median (s)")
    latency_spread_warn_s: float = threshold(1.0, "warn when the samples differ by more than this (s)")
    oauth_expiry_warn_minutes: float = threshold(60.0, "warn when the OAuth login expires within this many minutes")
    live_model: str = threshold("claude-haiku-4-5", "the model `--live` asks for one token")
    # Claude Code's own MCP_TIMEOUT default (30000 ms)
    mcp_timeout_s: float = threshold(
        30.0,
        "how long an MCP server may take to answer initialize and tools/list (`MCP_TIMEOUT` wins when set); Claude Code's own default",
    )
    mcp_context_warn_tokens: int = threshold(
        25_000, "warn when all MCP tool definitions together exceed this many tokens (characters / 4)"
    )
    inotify_min_watches: int = threshold(524_288, "warn when `fs.inotify.max_user_watches` is under this")
    inotify_min_instances: int = threshold(256, "warn when `fs.inotify.max_user_instances` is under this")
    nofile_min: int = threshold(4096, "warn when the soft open-file limit (`ulimit -n`) is under this")
    snapshots_checked: int = threshold(20, "how many of the newest shell snapshots are parsed")
    memory_files_warn_chars: int = threshold(
        15_000, "warn when the CLAUDE.md files that load for the project total more characters"
    )
    # 0: fail only where the context estimate leaves no room for a session
    memory_files_fail_chars: int = threshold(
        0,
        "fail when they total more characters; 0: fail only where the estimate below leaves less than `session_room_tokens` (Claude Code itself loads a 140 KB CLAUDE.md without complaint)",
    )
    context_window_tokens: int = threshold(
        200_000,
        "the context window of that estimate: memory files + MCP tool definitions + system prompt, in characters / 4",
    )
    # measured: what `claude -p` 2.1.332 sends before any CLAUDE.md (chars / 4)
    system_prompt_tokens: int = threshold(
        12_500,
        "Claude Code's system prompt and built-in tool definitions in the estimate (measured: what `claude -p` 2.1.332 sends, about 50,000 characters)",
    )
    # answers (20k), compaction buffer (13k) and some work before compacting
    session_room_tokens: int = threshold(
        50_000,
        "fail when the memory files, MCP tools and system prompt leave less than this: room for answers, the auto-compaction buffer and some work",
    )
    state_file_warn_mb: float = threshold(5.0, "warn when `~/.claude.json` is larger (MB)")
    recent_session_days: float = threshold(
        7.0, "the session checks read transcripts changed in this many days (`--all-sessions`: all)"
    )
    error_repeat_count: int = threshold(
        2, "a session with this many API errors of one cause (or one where Claude Code gave up) counts as failing"
    )
    transcript_warn_mb: float = threshold(
        10.0, "warn about transcripts larger than this (MB): `--resume` becomes slow or hangs"
    )
    transcript_line_warn_mb: float = threshold(
        1.0, "warn about transcript lines longer than this (MB); such lines are measured, never parsed"
    )
    image_max_px: int = threshold(
        2000, "an image in a transcript wider or taller than this fails every later request of the session"
    )
    history_old_warn_gb: float = threshold(
        2.0, "warn when sessions older than `old_session_days` take more than this (GB)"
    )
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
# name -> what it means, for every threshold (the switches, set by options, are not thresholds).
THRESHOLDS: dict[str, str] = {f.name: f.metadata["help"] for f in fields(Policy) if "help" in f.metadata}


def default(name: str) -> str:
    return str(getattr(Policy, name))


def markdown_table() -> str:
    """The README's threshold table, generated so it cannot drift from Policy."""
    rows = ["| ini option | default | meaning |", "|---|---|---|"]
    for name, text in THRESHOLDS.items():
        value = default(name)
        shown = f"`{value}`" if isinstance(getattr(Policy, name), str) else _number(value)
        rows.append(f"| `{name}` | {shown} | {text} |")
    rows.append("| `reports_dir` | reports | where the HTML and JSON reports go by default |")
    return "\n".join(rows)


def _number(value: str) -> str:
    """1.0 -> 1, 524288 -> 524288: as a person writes it in `-o name=value`."""
    number = float(value)
    return str(int(number)) if number.is_integer() else value


if __name__ == "__main__":
    print(markdown_table())
