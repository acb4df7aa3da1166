"""Memory: the OS kills Claude Code (OOM) more often than anything else, and silently."""

from claude_preflight.checking import check
from claude_preflight.probes import install, memory, processes, sessions
from claude_preflight.rules.memory import (
    evaluate_cgroup,
    evaluate_headroom,
    evaluate_heap,
    evaluate_killed_sessions,
    evaluate_oom,
    evaluate_processes,
    evaluate_wsl,
)


@check("memory.headroom")
def test_memory_headroom(env, policy):
    return evaluate_headroom(memory.meminfo(env), memory.memory_pressure(env), policy)


@check("memory.cgroup")
def test_cgroup_limit(env, policy):
    return evaluate_cgroup(memory.cgroup_memory(env), policy)


@check("memory.oom-kills")
def test_oom_kills(env, policy):
    return evaluate_oom(memory.oom_evidence(env, policy.probe_timeout_s))


@check("memory.wsl")
def test_wsl_memory(env, policy):
    return evaluate_wsl(memory.wsl_facts(env, policy.probe_timeout_s), memory.meminfo(env), policy)


@check("memory.heap-flags")
def test_heap_flags(env, policy):
    node_options = env.environ.get("NODE_OPTIONS", "")
    heap = memory.heap_limit_mb(node_options)
    version = install.running_version(env, policy.probe_timeout_s) if heap else None
    return evaluate_heap(heap, version, memory.meminfo(env), node_options)


@check("memory.claude-processes")
def test_claude_processes(env, policy):
    return evaluate_processes(processes.claude_processes(env), env.uid, memory.meminfo(env), policy)


@check("memory.killed-sessions")
def test_killed_sessions(env, policy):
    entries = sessions.registry(env)
    live_cwds = {entry.cwd for entry in entries if entry.alive}
    stale = [entry for entry in entries if not entry.alive]
    return evaluate_killed_sessions(stale, sessions.ungraceful_projects(env, policy.config_max_bytes), live_cwds)
