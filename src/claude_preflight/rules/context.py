"""Rules for what fills the context window before the first prompt, and for a bloated ~/.claude.json."""

from __future__ import annotations

import shlex

from claude_preflight.outcome import Finding, Result, Status, combine, ok, skip, warn
from claude_preflight.probes.context import MemoryFile, MemoryFiles, StateFile
from claude_preflight.records import dataclass

MEMORY_DOCS = "https://code.claude.com/docs/en/memory"
CHARS_PER_TOKEN = 4  # the usual estimate for English text and code


def _chars(n: int) -> str:
    return f"{n:,} characters (~{n // CHARS_PER_TOKEN:,} tokens)"


@dataclass(frozen=True)
class ContextBudget:
    """What fills the context window before the first prompt, estimated in tokens (characters / 4)."""

    window: int
    system: int  # Claude Code's system prompt and built-in tools (measured once, see policy.system_prompt_tokens)
    mcp: int | None  # the MCP servers' tool definitions; None when not counted (servers not started)
    room: int  # what a session needs on top: answers, the compaction buffer, some work

    def left(self, memory_tokens: int) -> int:
        return self.window - memory_tokens - self.system - (self.mcp or 0)

    def describe(self, memory_tokens: int) -> str:
        mcp = f"~{self.mcp:,} MCP tool definitions" if self.mcp is not None else "MCP tools not counted"
        return (
            f"estimate: ~{memory_tokens:,} memory files + {mcp} + ~{self.system:,} system prompt and built-in tools "
            f"of a {self.window:,}-token window leaves ~{self.left(memory_tokens):,} (a session needs ~{self.room:,})"
        )


def _problem(f: MemoryFile) -> str | None:
    """What is off with a memory file, in words: not read at all, or read with bytes that are not UTF-8."""
    if f.unread is not None:
        return f.unread.describe()
    return f"not UTF-8 (byte {f.bad_byte})" if f.bad_byte is not None else None


def evaluate_memory_files(
    facts: MemoryFiles, warn_chars: int, fail_chars: int, shown, budget: ContextBudget | None = None
) -> Result:
    """`shown(path)` prints a path as the user would type it. Claude Code loads even a very large CLAUDE.md: it fails
    only where the fixed context leaves no room to work (`budget`), or over an explicit `fail_chars` (0: none)."""
    total = facts.total_chars
    largest = sorted(facts.files, key=lambda f: -f.chars)
    evidence = [f"{len(facts.files)} file(s) load for this project: {_chars(total)} in all"]
    evidence += [
        f"{shown(f.path)} ({f.role}{', imported by ' + shown(f.imported_from) if f.imported_from else ''}): "
        f"{f.chars:,} characters" + (f" - {_problem(f)}" if _problem(f) else "")
        for f in largest[:8]
    ]
    if len(largest) > 8:
        evidence.append(f"... and {len(largest) - 8} smaller file(s)")
    evidence += [f"{shown(b.source)}: @{b.written} -> {shown(b.target)}: {b.reason}" for b in facts.bad_imports]
    fail_at = f"fail over {fail_chars:,} characters" if fail_chars else "fail by the context estimate"
    evidence.append(f"thresholds: warn over {warn_chars:,} characters, {fail_at}")
    if budget:
        evidence.append(budget.describe(total // CHARS_PER_TOKEN))
    no_room = budget is not None and total > warn_chars and budget.left(total // CHARS_PER_TOKEN) < budget.room
    trim = (
        "Every one of these files is sent with every request of every session. Move what is rarely needed into "
        "files Claude reads on demand (mention their path in plain text instead of @importing them), and keep "
        "the always-loaded files to rules and commands. The largest first:\n"
        + "\n".join(f"  wc -c {shlex.quote(shown(f.path))}" for f in largest[:3])
    )
    findings = []
    if (fail_chars and total > fail_chars) or no_room:
        why = f"over {fail_chars:,}" if fail_chars and total > fail_chars else "too little context left to work"
        findings.append(
            Finding(
                Status.FAIL,
                f"CLAUDE.md files total {_chars(total)}: {why}",
                "A context this full before the first prompt brings `prompt is too long` and constant "
                "auto-compaction early in a session.\n" + trim,
            )
        )
    elif total > warn_chars:
        findings.append(Finding(Status.WARN, f"CLAUDE.md files total {_chars(total)}: over {warn_chars:,}", trim))
    for bad in facts.bad_imports:
        if bad.reason == "missing":
            findings.append(
                Finding(
                    Status.WARN,
                    f"import @{bad.written} in {shown(bad.source)} does not exist",
                    "Claude Code skips an import it cannot find, silently: the instructions you expect are not "
                    f"loaded. Fix the path or remove the line:\n  grep -n {shlex.quote('@' + bad.written)} "
                    f"{shlex.quote(shown(bad.source))}",
                )
            )
        elif bad.reason == "too deep":
            findings.append(
                Finding(
                    Status.WARN,
                    f"import @{bad.written} in {shown(bad.source)} is nested deeper than 5 levels",
                    "Claude Code follows imports at most 5 levels deep; this file is not loaded. Import it from a "
                    "file closer to CLAUDE.md.",
                )
            )
    for f in facts.files:
        if f.unread is not None:
            findings.append(
                Finding(
                    Status.WARN,
                    f"{shown(f.path)}: {_problem(f)}",
                    f"Claude Code cannot load this memory file. Check it with:\n  ls -l {shlex.quote(shown(f.path))}",
                )
            )
    if not facts.files:
        return ok("no CLAUDE.md files load for this project")
    return combine(findings, evidence, f"CLAUDE.md files total {_chars(total)}", MEMORY_DOCS)


def evaluate_state_file(state: StateFile, warn_mb: float, shown) -> Result:
    if state.size is None:
        return skip(f"{shown(state.path)} does not exist yet (Claude Code creates it on first start)")
    size = f"{state.size / 1e6:.1f} MB"
    if state.size <= warn_mb * 1e6:
        return ok(f"{shown(state.path)} is {size}", f"{state.project_count} project(s) recorded")
    evidence = [f"{shown(state.path)}: {size} (warn over {warn_mb:g} MB, state_file_warn_mb)"]
    if not state.parsed:
        evidence.append("not parsed (invalid JSON or larger than config_max_mb): see config.file")
    for project in sorted(state.projects, key=lambda p: -p.bytes)[:5]:
        history = f", {project.history:,} history entries" if project.history is not None else ""
        evidence.append(f"project {project.directory}: {project.bytes / 1e3:,.0f} kB{history}")
    gone = [p.directory for p in state.projects if not p.exists]
    if gone:
        evidence.append(f"{len(gone)} project(s) whose directory no longer exists: " + ", ".join(gone[:5]))
    evidence += [f"top-level key {key}: {n / 1e3:,.0f} kB" for key, n in state.biggest_keys[:3]]
    path = shlex.quote(str(state.path))
    prune = f"del(.projects[{', '.join(_jq_string(d) for d in gone[:50])}]) | " if gone else ""
    remediation = (
        "Claude Code reads and rewrites this whole file many times a session: a large one slows every start and "
        "makes it likelier that two sessions writing at once corrupt it.\n"
        "Quit every claude session, keep a copy, then drop per-project history"
        + (" and the projects that no longer exist" if gone else "")
        + ":\n"
        f"  cp -p {path} {path}.before-prune\n"
        f"  jq '{prune}.projects |= with_entries(if (.value | type) == \"object\" then .value.history = [] else . end)'"
        f" {path}.before-prune > {path}.new && mv {path}.new {path} && chmod 600 {path}"
    )
    return warn(f"{shown(state.path)} is {size}: over {warn_mb:g} MB", *evidence, remediation=remediation)


def _jq_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("'", "'\\''") + '"'
