"""Running Claude Code processes: who, how old, how big, orphaned or not, and their MCP children."""

from __future__ import annotations

import re
from pathlib import PurePath

from claude_preflight.env import Env
from claude_preflight.probes import macos
from claude_preflight.probes.memory import is_claude_name
from claude_preflight.records import dataclass

ATTRS = ["pid", "ppid", "name", "exe", "cmdline", "username", "uids", "create_time", "memory_info", "terminal"]
# A parent that adopts orphans (init, or a subreaper such as systemd --user or tini) means "orphaned" too.
INIT_NAMES = frozenset({"init", "systemd", "tini", "dumb-init", "launchd", "s6-svscan", "runit", "catatonit"})
JS_ENTRY = re.compile(r"(@anthropic-ai/claude-code|claude-code)/cli\.(m?js)$")


@dataclass(frozen=True)
class ClaudeProcess:
    pid: int
    ppid: int
    user: str
    uid: int | None
    age_s: float
    rss: int
    tty: str | None
    orphaned: bool
    stream_json: bool
    how: str  # why it counts as Claude Code
    command: str
    children: tuple[tuple[int, str, int], ...]  # (pid, name, rss) of descendants, e.g. MCP servers
    footprint: int | None = None  # macOS: physical footprint (what jetsam counts); None where not measured
    children_footprint: int | None = None

    @property
    def children_rss(self) -> int:
        return sum(rss for _, _, rss in self.children)

    @property
    def size(self) -> int:
        """Its memory as the OS that kills it counts it: footprint where measured, else RSS."""
        return self.footprint if self.footprint is not None else self.rss

    @property
    def children_size(self) -> int:
        return self.children_footprint if self.children_footprint is not None else self.children_rss


VERSIONS_DIR = "/.local/share/claude/versions/"  # the native installer's binaries, in any user's home


def _identify(info: dict) -> str | None:
    name = info.get("name") or ""
    cmdline = info.get("cmdline") or []
    exe = info.get("exe") or ""
    if name in ("claude", "claude.exe"):
        return f"process named {name}"
    if VERSIONS_DIR in exe or (cmdline and VERSIONS_DIR in cmdline[0]):
        return "native build under ~/.local/share/claude/versions/"
    if cmdline and PurePath(cmdline[0]).name in ("claude", "claude.exe"):
        return f"started as {cmdline[0]}"
    if (name in ("node", "bun") or PurePath(exe).name in ("node", "bun")) and any(
        JS_ENTRY.search(arg) for arg in cmdline[1:3]
    ):
        return f"{name} running Claude Code's cli.js"
    return None


def _candidate(name: str) -> bool:
    """Could this process be Claude Code? Decided from the name alone, so only candidates are read in full."""
    return is_claude_name(name) or name in ("node", "bun") or name.startswith("claude")


def claude_processes(env: Env, timeout: float = 5.0) -> list[ClaudeProcess]:
    """Every Claude Code process on the machine (other users' included, where visible)."""
    now = env.now()
    # On macOS jetsam judges by physical footprint (compressed pages included), which RSS leaves out.
    footprint = macos.footprints(env, timeout) if env.platform == "darwin" else None
    table = env.process_table()  # one pass: descendants are found in it, not by rereading /proc per process
    names = {pid: name for pid, (name, _) in table.items()}
    found = []
    for pid, name in names.items():
        if pid == env.own_pid or not _candidate(name):
            continue
        info = env.process_details(pid, ATTRS)
        if info is None:
            continue
        how = _identify(info)
        if how is None:
            continue
        cmdline = info.get("cmdline") or []
        ppid = info.get("ppid") or 0
        tty = info.get("terminal")
        orphaned = (ppid <= 1 or ppid not in names or names[ppid] in INIT_NAMES) and not tty
        memory = info.get("memory_info")
        uids = info.get("uids")
        kids = env.children(info["pid"], table)
        found.append(
            ClaudeProcess(
                pid=info["pid"],
                ppid=ppid,
                user=info.get("username") or "?",
                uid=uids.real if uids else None,
                age_s=max(0.0, now - (info.get("create_time") or now)),
                rss=memory.rss if memory else 0,
                tty=tty,
                orphaned=orphaned,
                stream_json="stream-json" in " ".join(cmdline),
                how=how,
                command=" ".join(cmdline)[:200] or info.get("name") or "",
                children=tuple((k["pid"], k["name"], k["rss"]) for k in kids),
                footprint=footprint.get(info["pid"]) if footprint else None,
                children_footprint=sum(footprint.get(k["pid"], 0) for k in kids) if footprint else None,
            )
        )
    return sorted(found, key=lambda p: p.pid)
