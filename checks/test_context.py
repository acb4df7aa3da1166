"""Context: what fills the context window before the first prompt, and a bloated ~/.claude.json."""

from claude_preflight.checking import check
from claude_preflight.probes import context
from claude_preflight.rules.context import evaluate_memory_files, evaluate_state_file


@check("context.memory-files")
def test_memory_files(env, policy):
    facts = context.memory_files(env, policy.config_max_bytes)
    return evaluate_memory_files(facts, policy.memory_files_warn_chars, policy.memory_files_fail_chars, env.shown)


@check("context.state-file")
def test_state_file(env, policy):
    return evaluate_state_file(context.state_file(env, policy.config_max_bytes), policy.state_file_warn_mb, env.shown)
