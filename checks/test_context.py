"""Context: what fills the context window before the first prompt, and a bloated ~/.claude.json."""

from claude_preflight.checking import check
from claude_preflight.probes import context, mcp
from claude_preflight.rules.context import ContextBudget, evaluate_memory_files, evaluate_state_file
from claude_preflight.rules.mcp import tokens


@check("context.memory-files")
def test_memory_files(env, policy):
    facts = context.memory_files(env, policy.config_max_bytes)
    # The MCP check's survey (once per run): its servers' tool definitions share the context with CLAUDE.md.
    servers = mcp.survey(env, policy).values() if policy.mcp_start else None
    mcp_tokens = None if servers is None else sum(tokens(f.handshake.tool_chars) for f in servers if f.handshake)
    budget = ContextBudget(policy.context_window_tokens, policy.system_prompt_tokens, mcp_tokens,
                           policy.session_room_tokens)  # fmt: skip
    return evaluate_memory_files(
        facts, policy.memory_files_warn_chars, policy.memory_files_fail_chars, env.shown, budget
    )


@check("context.state-file")
def test_state_file(env, policy):
    # Each project's weight is worked out only where the rule will show it: over the warning size.
    state = context.state_file(env, policy.config_max_bytes, detail_over=int(policy.state_file_warn_mb * 1e6))
    return evaluate_state_file(state, policy.state_file_warn_mb, env.shown)
