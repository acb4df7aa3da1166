"""Rules for MCP servers: configuration, start-up and handshake, authentication, context cost."""

from __future__ import annotations

import os

from claude_preflight.outcome import Result, fail, ok, skip, warn
from claude_preflight.policy import Policy
from claude_preflight.probes.mcp import RUNTIMES, McpFacts

DOCS = "https://code.claude.com/docs/en/mcp"
SILENT = (
    "Claude Code starts without this server and says nothing (`claude -p` exits 0, the tools are just missing); "
    "only `claude mcp list` shows the failure."
)


def tokens(chars: int) -> int:
    return chars // 4


def _where(f: McpFacts) -> str:
    return f"{f.server.id} in {f.server.source}"


def evaluate_server(f: McpFacts) -> Result:
    s, server = f.shape, f.server
    evidence = [f"{_where(f)} ({server.transport}): {server.approval}"]
    if server.shadowed_by:
        return skip(f"{server.id} is not used: {server.shadowed_by} has the same name and wins", *evidence)
    if s.problems:
        return fail(f"{server.id} is malformed: {s.problems[0]}", *evidence, *s.problems,
                    remediation=f"{SILENT} Fix the entry in {server.source}, or re-add it with "
                    f"`claude mcp remove {server.name}` and `claude mcp add ...`.", docs=DOCS)  # fmt: skip
    if s.missing_vars:
        names = ", ".join(s.missing_vars)
        return fail(f"{server.id} uses unset variable(s): {names}", *evidence,
                    remediation=f"The server gets an empty value where ${{{s.missing_vars[0]}}} stands, so it fails to start "
                    f"or to authenticate. {SILENT} Export it in the shell that starts Claude Code, or give a default "
                    f"with ${{{s.missing_vars[0]}:-value}}:\n  export {s.missing_vars[0]}=...", docs=DOCS)  # fmt: skip
    if server.transport == "stdio":
        return _stdio(f, evidence)
    return _http(f, evidence)


def _stdio(f: McpFacts, evidence: list[str]) -> Result:
    server, command = f.server, f.shape.argv[0]
    if not f.resolved:
        runtime = RUNTIMES.get(os.path.basename(command))
        hint = f"\nInstall {runtime}" if runtime else f"\nInstall {command}, or give its full path in {server.source}."
        evidence.append(f"PATH the server gets: {f.path}")
        return fail(f"{server.id}: command not found: {command}", *evidence,
                    remediation=f'Claude Code fails with "ENOENT: no such file or directory, posix_spawn". {SILENT}{hint}',
                    docs=DOCS)  # fmt: skip
    evidence.append(f"command: {f.resolved} {' '.join(f.shape.argv[1:])}".rstrip())
    if f.not_started:
        if not server.approved and server.scope == "project":
            evidence.append(f"to check it by hand, once you have read it and trust it: cd '{f.server.source.parent}' "
                            f"&& {' '.join([f.resolved, *f.shape.argv[1:]])}")  # fmt: skip
        return ok(f"{server.id}: configuration is valid ({f.not_started})", *evidence)
    h = f.handshake
    stderr = [f"stderr: {line}" for line in h.stderr_tail[-5:]]
    if h.failure is None:
        info = h.server_info
        return ok(f"{server.id}: {info.get('name', '?')} {info.get('version', '')} answered in {h.seconds:.1f} s with "
                  f"{len(h.tools)} tool(s)".replace("  ", " "), *evidence,
                  f"protocol {h.protocol}, {len(h.tools)} tools, ~{tokens(h.tool_chars)} tokens of tool definitions")  # fmt: skip
    if h.failure in NOT_CHECKED:
        return _not_checked(f, evidence)
    why = {
        "exited": f"it {h.detail} before answering",
        "timed out": f"it did not answer initialize and tools/list: {h.detail}",
        "error": f"it answered with an error: {h.detail}",
        "stdout": f"it wrote a line that is not JSON-RPC to stdout: {h.detail}",
        "spawn": f"it could not be started: {h.detail}",
    }[h.failure]
    advice = {
        "timed out": f"Claude Code waits MCP_TIMEOUT (30 s by default) for it at every start. {SILENT}",
        "stdout": "The server logs to stdout, which breaks the protocol: make it log to stderr. " + SILENT,
    }.get(h.failure, SILENT)
    run = " ".join([f.resolved, *f.shape.argv[1:]])
    return fail(f"{server.id}: {why}", *evidence, *stderr,
                remediation=f"{advice}\nRun it by hand to see why (it should wait for input on stdin):\n  {run}",
                docs=DOCS)  # fmt: skip


NOT_CHECKED = ("budget", "cancelled")  # the run's time or the run itself ended before this server's turn


def _not_checked(f: McpFacts, evidence: list[str]) -> Result:
    return warn(f"{f.server.id}: not checked: {f.handshake.detail}", *evidence,
                remediation="claude-preflight's time for the MCP family (check_timeout_s) ran out, or the run was "
                "stopped, before this server's turn. Check the MCP servers alone, with more time:\n"
                "  claude-preflight -k mcp -o check_timeout_s=120", docs=DOCS)  # fmt: skip


def _http(f: McpFacts, evidence: list[str]) -> Result:
    server = f.server
    evidence.append(f"url: {f.shape.url}")
    if f.not_started:
        return ok(f"{server.id}: configuration is valid ({f.not_started})", *evidence)
    h = f.handshake
    if h.failure in NOT_CHECKED:
        return _not_checked(f, evidence)
    if h.failure is None:
        what = "initialize answered" if server.transport == "http" else "the event stream opened"
        return ok(f"{server.id}: {what} in {h.seconds:.1f} s ({h.detail})", *evidence)
    if h.status in (401, 403):
        return warn(f"{server.id} needs authentication (HTTP {h.status})", *evidence,
                    remediation="Claude Code connects after you authenticate: run `/mcp` in a session and choose the "
                    "server to log in (OAuth), or add the header it expects with `claude mcp add --header`.",
                    docs=DOCS)  # fmt: skip
    reason = f"{h.phase} failed: {h.detail}" if h.phase else h.detail
    return fail(f"{server.id}: {f.shape.url} does not answer ({reason})", *evidence,
                remediation=f"{SILENT} Start the server, or fix the URL in {server.source}.", docs=DOCS)  # fmt: skip


def evaluate_context(facts: list[McpFacts], policy: Policy) -> Result:
    measured = [f for f in facts if f.handshake and f.handshake.failure is None and f.server.transport == "stdio"]
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
        return warn(f"MCP tool definitions take ~{total} tokens of context (over {policy.mcp_context_warn_tokens})",
                    *evidence, remediation="Every request carries these definitions: they crowd out your conversation "
                    f"and bring 'prompt is too long' sooner. The largest: {largest}. Disable servers you do not need in "
                    "this project (`/mcp`, or `claude mcp remove <name>`).", docs=DOCS)  # fmt: skip
    return ok(f"MCP tool definitions take ~{total} tokens of context", *evidence)
