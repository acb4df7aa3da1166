"""Every check claude-preflight has, in one place. The README table and the tests read this."""

from __future__ import annotations

from claude_preflight.records import dataclass

ISSUES = "https://github.com/anthropics/claude-code/issues"


@dataclass(frozen=True)
class CheckInfo:
    id: str
    family: str
    title: str
    cause: str
    docs: str
    network: bool = False


CATALOGUE: tuple[CheckInfo, ...] = (
    CheckInfo(
        "config.file",
        "config",
        "Config files parse and match Claude Code's settings schema",
        "Corrupt JSON in ~/.claude.json stops Claude Code from starting; a settings file with an error "
        "or a wrong value type is ignored as a whole",
        "https://code.claude.com/docs/en/settings",
    ),
    CheckInfo(
        "config.corrupt-backups",
        "config",
        "No leftover corrupted ~/.claude.json copies",
        "Claude Code found ~/.claude.json corrupt before and set it aside: state may have been lost",
        "https://code.claude.com/docs/en/troubleshooting",
    ),
    CheckInfo(
        "permissions.path",
        "permissions",
        "Claude Code's directories and files are owned by you and writable",
        "A non-writable ~/.claude makes `claude -p` exit 0 without writing a transcript (the session is lost); "
        "EACCES crashes after `sudo claude`",
        "https://code.claude.com/docs/en/troubleshooting",
    ),
    CheckInfo(
        "permissions.ownership",
        "permissions",
        "Nothing under the config directory belongs to another user",
        "Files left owned by root after `sudo claude` cannot be rewritten: EACCES crashes, lost sessions",
        "https://code.claude.com/docs/en/troubleshooting",
    ),
    CheckInfo(
        "disk.space",
        "disk",
        "Free space and inodes on every filesystem Claude Code writes to",
        "A full disk crashes Claude Code with ENOSPC and can leave ~/.claude.json empty",
        "https://code.claude.com/docs/en/troubleshooting",
    ),
    CheckInfo(
        "memory.headroom",
        "memory",
        "Enough available memory, RAM and free swap; no memory pressure",
        "When memory runs out the kernel OOM-kills Claude Code without a word and the session is lost",
        "https://code.claude.com/docs/en/troubleshooting",
    ),
    CheckInfo(
        "memory.cgroup",
        "memory",
        "The container / cgroup memory limit leaves room, and has killed nothing",
        "A dev container's memory limit is what Claude Code hits first: an OOM kill inside the container",
        "https://docs.docker.com/engine/containers/resource_constraints/",
    ),
    CheckInfo(
        "memory.oom-kills",
        "memory",
        "No OOM kills since boot, none of them Claude Code",
        "Kernel log lines `Killed process N (claude)` are the only trace an OOM-killed session leaves",
        "https://code.claude.com/docs/en/troubleshooting",
    ),
    CheckInfo(
        "memory.wsl",
        "memory",
        "The WSL2 VM has enough memory and swap (.wslconfig)",
        "WSL2 gives its VM half the host's RAM by default: Claude Code is OOM-killed within minutes to hours",
        "https://learn.microsoft.com/windows/wsl/wsl-config",
    ),
    CheckInfo(
        "memory.heap-flags",
        "memory",
        "NODE_OPTIONS heap size fits in RAM (JavaScript builds only)",
        "A Node heap limit above physical RAM lets the OS kill Claude Code before the heap limit can act",
        "https://code.claude.com/docs/en/troubleshooting",
    ),
    CheckInfo(
        "memory.claude-processes",
        "memory",
        "No pile of leftover or orphaned Claude Code processes",
        "Idle sessions pile up (23 sessions, 19.5 GB on a 16 GB machine) until the host freezes or the OOM killer strikes",
        f"{ISSUES}",
    ),
    CheckInfo(
        "memory.killed-sessions",
        "memory",
        "No session was SIGKILLed (stale registry entries, ungraceful shutdowns)",
        "A session killed by the OOM killer leaves a stale ~/.claude/sessions entry and may be missing from --resume",
        "https://code.claude.com/docs/en/troubleshooting",
    ),
    CheckInfo(
        "network.credentials",
        "network",
        "Claude Code has credentials, well formed (key, token, apiKeyHelper, OAuth, Bedrock, Vertex)",
        "A missing or quoted key, one with a line break inside, a failing apiKeyHelper or an expired login fails "
        "every request",
        "https://code.claude.com/docs/en/iam",
    ),
    CheckInfo(
        "network.api-key",
        "network",
        "The API accepts the credentials (no tokens spent)",
        "A rejected key is retried 10 times (about 190 s): a 3-minute hang, then 'Invalid API key'",
        "https://code.claude.com/docs/en/iam",
        network=True,
    ),
    CheckInfo(
        "network.latency",
        "network",
        "The API answers quickly and steadily (DNS, connect, proxy, TLS, first byte)",
        "A slow or flaky link drops Claude Code's long streams (ECONNRESET); a silent gateway hangs 10 minutes",
        "https://code.claude.com/docs/en/network-config",
        network=True,
    ),
    CheckInfo(
        "network.ca-certs",
        "network",
        "NODE_EXTRA_CA_CERTS, when set, is a readable PEM file exported in the shell",
        "Behind a TLS-inspecting proxy a wrong or settings-only CA file fails every request (SELF_SIGNED_CERT_IN_CHAIN)",
        "https://code.claude.com/docs/en/network-config",
    ),
    CheckInfo(
        "network.tls",
        "network",
        "The API's TLS certificate verifies with the trust Claude Code uses",
        "An untrusted certificate (corporate proxy) fails every request with SELF_SIGNED_CERT_IN_CHAIN",
        "https://code.claude.com/docs/en/network-config",
        network=True,
    ),
    CheckInfo(
        "network.streaming",
        "network",
        "A streamed reply completes (--live: spends about one output token)",
        "A proxy that cuts long-lived responses shows as 'Connection dropped' or endless retries mid-session",
        "https://code.claude.com/docs/en/network-config",
        network=True,
    ),
    CheckInfo(
        "network.timeouts",
        "network",
        "API_TIMEOUT_MS, CLAUDE_CODE_MAX_RETRIES and MCP_TIMEOUT are valid, and what they make you wait",
        "The defaults turn a silent API into a wait of up to 110 minutes; an overflowing API_TIMEOUT_MS fails at once",
        "https://code.claude.com/docs/en/settings",
    ),
    CheckInfo(
        "mcp.server",
        "mcp",
        "Each configured MCP server is valid, starts and answers initialize and tools/list",
        "A malformed .mcp.json or a missing command is silent (`claude -p` exits 0 without the tools); a server "
        "that never answers costs MCP_TIMEOUT at every start",
        "https://code.claude.com/docs/en/mcp",
    ),
    CheckInfo(
        "mcp.context",
        "mcp",
        "MCP tool definitions leave room in the context",
        "A server's tool definitions can take tens of thousands of tokens: 'prompt is too long' sooner",
        "https://code.claude.com/docs/en/mcp",
    ),
    CheckInfo(
        "install.claude",
        "install",
        "Exactly one Claude Code installation, and it answers",
        "Several installations fight over updates ('Multiple installations found'); a broken one hangs or fails at start",
        "https://code.claude.com/docs/en/setup",
    ),
    CheckInfo(
        "install.known-bad",
        "install",
        "The running version is not a known-bad release",
        "Some releases balloon memory (2.1.27: 467 MB to 7.5 GB in 20 s) or crash",
        "https://github.com/anthropics/claude-code/issues/22042",
    ),
    CheckInfo(
        "install.node",
        "install",
        "Node.js, where Claude Code or its MCP servers need it, is there and new enough",
        "EBADENGINE, 'exec: node: not found', a Windows node under WSL",
        "https://code.claude.com/docs/en/setup",
    ),
    CheckInfo(
        "install.auto-update",
        "install",
        "An npm install can update itself",
        "A root-owned npm prefix makes every auto-update fail",
        "https://code.claude.com/docs/en/setup",
    ),
    CheckInfo(
        "install.ripgrep",
        "install",
        "ripgrep works for Claude Code's searches",
        "Without a working ripgrep, or with RIPGREP_CONFIG_PATH set, search finds nothing",
        "https://code.claude.com/docs/en/troubleshooting",
    ),
    CheckInfo(
        "install.shell-snapshots",
        "install",
        "Shell snapshots parse (bash -n / zsh -n)",
        "A snapshot that does not parse makes every Bash tool call fail",
        "https://code.claude.com/docs/en/troubleshooting",
    ),
    CheckInfo(
        "install.os-limits",
        "install",
        "inotify watches and instances, and the open-file limit, are high enough",
        "'System limit for number of file watchers reached', EMFILE",
        "https://code.claude.com/docs/en/troubleshooting",
    ),
    CheckInfo(
        "install.cpu",
        "install",
        "The CPU has AVX (x86_64)",
        "The native build stops with 'Illegal instruction' on CPUs without AVX",
        "https://code.claude.com/docs/en/troubleshooting",
    ),
    CheckInfo(
        "install.terminal",
        "install",
        "Terminal: stdin and TERM (information)",
        "Interactive claude needs a terminal: 'Raw mode is not supported'",
        "https://code.claude.com/docs/en/troubleshooting",
    ),
    CheckInfo(
        "context.memory-files",
        "context",
        "CLAUDE.md memory files (with parents, rules and @imports) fit the context",
        "Every CLAUDE.md that loads is sent with every request: large ones bring `prompt is too long` and constant "
        "compaction; a missing @import is skipped silently",
        "https://code.claude.com/docs/en/memory",
    ),
    CheckInfo(
        "context.state-file",
        "context",
        "~/.claude.json is not bloated",
        "Claude Code rewrites ~/.claude.json many times a session: a large one slows every start and is likelier "
        "to be corrupted by concurrent writes",
        "https://code.claude.com/docs/en/troubleshooting",
    ),
    CheckInfo(
        "sessions.crash-signatures",
        "sessions",
        "Recent sessions: API errors by cause (401/403, 429, 500/529, prompt too long, connection)",
        "The errors your last sessions died of say what will kill the next one",
        "https://code.claude.com/docs/en/troubleshooting",
    ),
    CheckInfo(
        "sessions.transcript-damage",
        "sessions",
        "Recent transcripts: size, long lines, oversized images, torn last line, open tool_use",
        "A damaged transcript makes `--resume` hang or every request of the session fail with HTTP 400",
        "https://code.claude.com/docs/en/troubleshooting",
    ),
    CheckInfo(
        "sessions.index",
        "sessions",
        "sessions-index.json (older 2.1.x) lists the transcripts that exist",
        "`--resume` says there are no conversations although the transcripts exist when the index is out of sync",
        "https://code.claude.com/docs/en/troubleshooting",
    ),
    CheckInfo(
        "sessions.history",
        "sessions",
        "Session history on disk: count, size, sessions older than 30 days",
        "Gigabytes of old transcripts fill the disk Claude Code writes to",
        "https://code.claude.com/docs/en/troubleshooting",
    ),
    CheckInfo(
        "hooks.command",
        "hooks",
        "Each command hook (settings files and plugins) can start: program, script, shebang, timeout",
        "A PreToolUse hook whose script is missing exits 2 under python3, which means 'deny': every tool call is "
        "blocked all session (#80697); a command not on PATH prints 'hook error' at every call (#50839); a hung "
        "hook empties every tool result (#70455)",
        f"{ISSUES}/80697",
    ),
    CheckInfo(
        "hooks.status-line",
        "hooks",
        "The statusLine and subagentStatusLine commands can start",
        "Claude Code runs the status line after every message: a command that cannot start fails every time "
        "and the status line stays empty",
        "https://code.claude.com/docs/en/statusline",
    ),
    CheckInfo(
        "plugins.installed",
        "plugins",
        "Each enabled plugin loads: marketplace and plugin folders exist, manifest and hooks/MCP files parse",
        "A missing marketplace folder or a broken plugin.json unloads the whole plugin; a broken hooks.json or "
        ".mcp.json silently drops its hooks or MCP servers",
        "https://code.claude.com/docs/en/plugins",
    ),
    CheckInfo(
        "windows.git-bash",
        "windows",
        "Git Bash is where Claude Code looks for it (CLAUDE_CODE_GIT_BASH_PATH, Program Files, git on PATH)",
        "Without Git Bash, Claude Code up to 2.1.85 stops with 'Claude Code on Windows requires git-bash'; later "
        "releases lose the Bash tool (PowerShell only)",
        f"{ISSUES}/25593",
    ),
    CheckInfo(
        "windows.path",
        "windows",
        "`%USERPROFILE%\\.local\\bin` (the native install) is on PATH",
        "The native installer does not always add its folder to PATH: 'claude' is not recognized, or another "
        "installation runs instead",
        f"{ISSUES}/42337",
    ),
    CheckInfo(
        "windows.managed-settings",
        "windows",
        "Managed settings are in `C:\\Program Files\\ClaudeCode`, not the deprecated `C:\\ProgramData\\ClaudeCode`",
        "Claude Code no longer reads `C:\\ProgramData\\ClaudeCode` (deprecated in 2.1.2): a policy left there is "
        "silently not applied",
        f"{ISSUES}/18720",
    ),
    CheckInfo(
        "windows.long-paths",
        "windows",
        "Transcript paths fit in 260 characters, or long paths are enabled (LongPathsEnabled)",
        "Session transcripts past MAX_PATH cannot be opened, copied or backed up by programs that are not "
        "long-path aware",
        f"{ISSUES}/91935",
    ),
)

_BY_ID = {info.id: info for info in CATALOGUE}


def get(check_id: str) -> CheckInfo:
    try:
        return _BY_ID[check_id]
    except KeyError:
        raise KeyError(f"check id {check_id!r} is not in the catalogue (claude_preflight/catalogue.py)") from None


def families() -> list[str]:
    """Families in catalogue order, each once."""
    return list(dict.fromkeys(info.family for info in CATALOGUE))


def markdown_table() -> str:
    """The README's check table, generated so it cannot drift from the catalogue."""
    rows = ["| id | family | what it checks | why it matters |", "|---|---|---|---|"]
    rows += [f"| `{i.id}` | {i.family} | {i.title} | {i.cause} |" for i in CATALOGUE]
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
