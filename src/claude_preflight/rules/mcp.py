"""Rules for MCP servers: configuration, start-up and handshake, authentication, context cost."""

from __future__ import annotations

from pathlib import PurePath

from claude_preflight.outcome import Result, fail, ok, skip, warn
from claude_preflight.policy import Policy
from claude_preflight.probes.mcp import Approval, Handshake, McpFacts, Problem, Server

DOCS = "https://code.claude.com/docs/en/mcp"
SILENT = (
    "Claude Code starts without this server and says nothing (`claude -p` exits 0, the tools are just missing); "
    "only `claude mcp list` shows the failure."
)


# What to install when a server's command is missing, by the command's name.
RUNTIMES = {
    "npx": "Node.js (npx comes with npm): install Node.js 20 or newer from your package manager or nodejs.org",
    "node": "Node.js: install Node.js 20 or newer",
    "uvx": "uv: pip install uv   (or: curl -LsSf https://astral.sh/uv/install.sh | sh)",
    "uv": "uv: pip install uv",
    "python": "Python: install python3 (the command `python` may need to be `python3`)",
    "python3": "Python 3: install python3",
    "docker": "Docker: install Docker Engine or Docker Desktop, and start it",
    "bunx": "Bun: install bun",
    "deno": "Deno: install deno",
}


def approval_text(server: Server) -> str:
    """Whether and why Claude Code starts this server, in words."""
    return {
        Approval.MANAGED: "managed by your organisation",
        Approval.LOCAL: "local scope: yours, for this project",
        Approval.USER: "user scope: yours, in every project",
        Approval.PLUGIN: f"from plugin {server.approved_where} (enabled)",
        Approval.DISABLED: "disabled (disabledMcpjsonServers)",
        Approval.UNTRUSTED: f"pending approval: the workspace {server.approved_where} is not trusted (no "
        "hasTrustDialogAccepted in ~/.claude.json), so neither Claude Code nor claude-preflight starts a server "
        "that the project's own files define",
        Approval.ENABLED: "approved (enabledMcpjsonServers)",
        Approval.ENABLE_ALL: f"approved by enableAllProjectMcpServers in {server.approved_where}",
        Approval.PENDING: "not approved yet: Claude Code asks before starting it",
    }[server.approval]


def problem_text(p: Problem) -> str:
    return {
        "not-an-object": "the entry is not an object",
        "bad-type": f'type "{p.found}" is not one of stdio, http, sse',
        "missing-command": 'a stdio server needs "command"',
        "missing-url": f'an {p.found} server needs "url"',
        "not-a-list": f"{p.field} must be a list of strings, found {p.found}",
        "not-an-object-of-strings": f"{p.field} must be an object of strings, found {p.found}",
        "not-a-string": f"{p.field} must be a string, found {p.found}",
        "bad-url": f"{p.field} must start with http:// or https://: {p.found}",
    }[p.code]


def not_started_text(f: McpFacts) -> str:
    return {
        "shadowed": f"shadowed by {f.server.shadowed_by}",
        "broken": "its configuration is broken",
        "no-start": "--no-mcp-start: static checks only",
        "not-approved": f"not started: {approval_text(f.server)} (claude-preflight starts only what Claude Code would)",
    }[f.not_started]


def failure_text(h: Handshake) -> str:
    """What went wrong in a stdio handshake, in words."""
    return {
        "exited": f"it exited with code {h.exit_code} before answering",
        "timed out": f"it did not answer initialize and tools/list: no answer within {h.waited_s or 0:g} s",
        "error": f"it answered with an error: {h.detail}",
        "stdout": f"it wrote a line that is not JSON-RPC to stdout: {h.detail}",
        "closed": "it closed its stdout without answering (still running)",
        "spawn": f"it could not be started: {h.detail}",
    }[h.failure]


# What Claude Code 2.1.330 prints for a NUL byte in a server's command or arguments (`claude mcp list`).
NUL_REFUSED = (
    'Claude Code cannot start it either: a NUL byte in its command or arguments is refused ("✘ Failed to connect — '
    'ERR_INVALID_ARG_VALUE: The argument … must be a string without null bytes"). Remove the \\u0000 '
    "from the entry."
)

NOT_CHECKED_TEXT = {
    "budget": "the MCP family's time budget ran out before its turn",
    "cancelled": "the run was stopped before this server started",
}


def tokens(chars: int) -> int:
    return chars // 4


def _where(f: McpFacts) -> str:
    return f"{f.server.id} in {f.server.source}"


def evaluate_server(f: McpFacts) -> Result:
    s, server = f.shape, f.server
    evidence = [f"{_where(f)} ({server.transport}): {approval_text(server)}"]
    if server.shadowed_by:
        return skip(f"{server.id} is not used: {server.shadowed_by} has the same name and wins", *evidence)
    if s.problems:
        problems = [problem_text(p) for p in s.problems]
        return fail(
            f"{server.id} is malformed: {problems[0]}",
            *evidence,
            *problems,
            remediation=f"{SILENT} Fix the entry in {server.source}, or re-add it with "
            f"`claude mcp remove {server.name}` and `claude mcp add ...`.",
            docs=DOCS,
        )
    if s.missing_vars:
        names = ", ".join(s.missing_vars)
        return fail(
            f"{server.id} uses unset variable(s): {names}",
            *evidence,
            remediation=f"The server gets an empty value where ${{{s.missing_vars[0]}}} stands, so it fails to start "
            f"or to authenticate. {SILENT} Export it in the shell that starts Claude Code, or give a default "
            f"with ${{{s.missing_vars[0]}:-value}}:\n  export {s.missing_vars[0]}=...",
            docs=DOCS,
        )
    if server.transport == "stdio":
        return _stdio(f, evidence)
    return _http(f, evidence)


def _stdio(f: McpFacts, evidence: list[str]) -> Result:
    server, command = f.server, f.shape.argv[0]
    if not f.resolved:
        runtime = RUNTIMES.get(PurePath(command).name)
        hint = f"\nInstall {runtime}" if runtime else f"\nInstall {command}, or give its full path in {server.source}."
        evidence.append(f"PATH the server gets: {f.path}")
        return fail(
            f"{server.id}: command not found: {command}",
            *evidence,
            remediation=f'Claude Code fails with "ENOENT: no such file or directory, posix_spawn". {SILENT}{hint}',
            docs=DOCS,
        )
    evidence.append(f"command: {f.resolved} {' '.join(f.shape.argv[1:])}".rstrip())
    if f.not_started:
        if not server.approved and server.scope == "project":
            evidence.append(
                f"to check it by hand, once you have read it and trust it: cd '{f.server.source.parent}' "
                f"&& {' '.join([f.resolved, *f.shape.argv[1:]])}"
            )
        return ok(f"{server.id}: configuration is valid ({not_started_text(f)})", *evidence)
    h = f.handshake
    stderr = [f"stderr: {line}" for line in h.stderr_tail[-5:]]
    if h.failure is None:
        info = h.server_info
        return ok(
            f"{server.id}: {info.get('name', '?')} {info.get('version', '')} answered in {h.seconds:.1f} s with "
            f"{len(h.tools)} tool(s)".replace("  ", " "),
            *evidence,
            f"protocol {h.protocol}, {len(h.tools)} tools, ~{tokens(h.tool_chars)} tokens of tool definitions",
        )
    if h.failure in NOT_CHECKED:
        return _not_checked(f, evidence)
    why = failure_text(h)
    advice = {
        "timed out": f"Claude Code waits MCP_TIMEOUT (30 s by default) for it at every start. {SILENT}",
        "spawn": f"{NUL_REFUSED} {SILENT}" if "null byte" in (h.detail or "") else SILENT,
        "stdout": "The server logs to stdout, which breaks the protocol: make it log to stderr. " + SILENT,
        "closed": "Claude Code waits MCP_TIMEOUT for an answer that never comes, then starts without it. " + SILENT,
    }.get(h.failure, SILENT)
    run = " ".join([f.resolved, *f.shape.argv[1:]])
    return fail(
        f"{server.id}: {why}",
        *evidence,
        *stderr,
        remediation=f"{advice}\nRun it by hand to see why (it should wait for input on stdin):\n  {run}",
        docs=DOCS,
    )


NOT_CHECKED = ("budget", "cancelled")  # the run's time or the run itself ended before this server's turn


def _not_checked(f: McpFacts, evidence: list[str]) -> Result:
    return warn(
        f"{f.server.id}: not checked: {NOT_CHECKED_TEXT[f.handshake.failure]}",
        *evidence,
        remediation="claude-preflight's time for the MCP family (check_timeout_s) ran out, or the run was "
        "stopped, before this server's turn. Check the MCP servers alone, with more time:\n"
        "  claude-preflight -k mcp -o check_timeout_s=120",
        docs=DOCS,
    )


def _http(f: McpFacts, evidence: list[str]) -> Result:
    server = f.server
    evidence.append(f"url: {f.shape.url}")
    if f.not_started:
        return ok(f"{server.id}: configuration is valid ({not_started_text(f)})", *evidence)
    h = f.handshake
    if h.failure in NOT_CHECKED:
        return _not_checked(f, evidence)
    if h.failure is None:
        what = "initialize answered" if server.transport == "http" else "the event stream opened"
        listed = f" with {len(h.tools)} tool(s)" if h.tools_listed else ""
        if h.tools_listed:
            name = f"{h.server_info.get('name', '?')} {h.server_info.get('version', '')}".strip()
            evidence.append(f"{name}, protocol {h.protocol}, ~{tokens(h.tool_chars)} tokens of tool definitions")
        return ok(f"{server.id}: {what} in {h.seconds:.1f} s{listed} ({h.detail})", *evidence)
    if h.status in (401, 403):
        return warn(
            f"{server.id} needs authentication (HTTP {h.status})",
            *evidence,
            remediation="Claude Code connects after you authenticate: run `/mcp` in a session and choose the "
            "server to log in (OAuth), or add the header it expects with `claude mcp add --header`.",
            docs=DOCS,
        )
    reason = f"{h.phase} failed: {h.detail}" if h.phase else h.detail
    return fail(
        f"{server.id}: {f.shape.url} does not answer ({reason})",
        *evidence,
        remediation=f"{SILENT} Start the server, or fix the URL in {server.source}.",
        docs=DOCS,
    )


def evaluate_context(facts: list[McpFacts], policy: Policy) -> Result:
    measured = [
        f
        for f in facts
        if f.handshake and f.handshake.failure is None and (f.server.transport == "stdio" or f.handshake.tools_listed)
    ]
    if not facts:
        return skip("no MCP server is configured")
    if not measured:
        return skip("no MCP server's tools could be listed (see mcp.server)")
    sized = sorted(measured, key=lambda f: -f.handshake.tool_chars)
    total = sum(tokens(f.handshake.tool_chars) for f in sized)
    evidence = [
        f"{f.server.id}: {len(f.handshake.tools)} tools, ~{tokens(f.handshake.tool_chars)} tokens" for f in sized
    ]
    unmeasured = [f.server.id for f in facts if f not in measured and not f.server.shadowed_by]
    if unmeasured:
        evidence.append(f"not measured: {', '.join(unmeasured)}")
    if total > policy.mcp_context_warn_tokens:
        largest = ", ".join(f.server.id for f in sized[:3])
        return warn(
            f"MCP tool definitions take ~{total} tokens of context (over {policy.mcp_context_warn_tokens})",
            *evidence,
            remediation="Every request carries these definitions: they crowd out your conversation "
            f"and bring 'prompt is too long' sooner. The largest: {largest}. Disable servers you do not need in "
            "this project (`/mcp`, or `claude mcp remove <name>`).",
            docs=DOCS,
        )
    return ok(f"MCP tool definitions take ~{total} tokens of context", *evidence)
