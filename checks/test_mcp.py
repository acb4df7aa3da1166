"""MCP servers: each one valid, started only when Claude Code would start it, answering the handshake."""

from claude_preflight.checking import check
from claude_preflight.probes import mcp
from claude_preflight.rules.mcp import evaluate_context, evaluate_server


@check("mcp.server", targets=mcp.server_targets)
def test_mcp_server(env, policy, target):
    return evaluate_server(mcp.survey(env, policy)[target.id])


@check("mcp.context")
def test_mcp_context(env, policy):
    return evaluate_context(list(mcp.survey(env, policy).values()), policy)
