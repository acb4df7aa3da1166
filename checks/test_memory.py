"""Memory: the OS kills Claude Code (OOM) more often than anything else, and silently."""

from claude_preflight.checking import check
from claude_preflight.probes import install, macos, memory, processes, sessions
from claude_preflight.rules.memory import (
    MAC_FIGURE,
    evaluate_cgroup,
    evaluate_headroom,
    evaluate_headroom_mac,
    evaluate_heap,
    evaluate_jetsam,
    evaluate_killed_sessions,
    evaluate_oom,
    evaluate_processes,
    evaluate_wsl,
)


def _meminfo(env, policy):
    return macos.meminfo(env, policy.probe_timeout_s) if env.platform == "darwin" else memory.meminfo(env)


@check("memory.headroom")
def test_memory_headroom(env, policy):
    if env.platform == "darwin":
        return evaluate_headroom_mac(macos.mac_memory(env, policy.probe_timeout_s), policy)
    return evaluate_headroom(memory.meminfo(env), memory.memory_pressure(env), policy)


@check("memory.cgroup")
def test_cgroup_limit(env, policy):
    return evaluate_cgroup(memory.cgroup_memory(env), policy)


@check("memory.oom-kills", early=True)
def test_oom_kills(env, policy):
    if env.platform == "darwin":
        return evaluate_jetsam(macos.jetsam(env, policy.probe_timeout_s, policy.recent_session_days))
    return evaluate_oom(memory.oom_evidence(env, policy.probe_timeout_s))


@check("memory.wsl")
def test_wsl_memory(env, policy):
    return evaluate_wsl(memory.wsl_facts(env, policy.probe_timeout_s), memory.meminfo(env), policy)


@check("memory.heap-flags")
def test_heap_flags(env, policy):
    node_options = env.environ.get("NODE_OPTIONS", "")
    heap = memory.heap_limit_mb(node_options)
    version = install.running_version(env, policy.probe_timeout_s) if heap else None
    return evaluate_heap(heap, version, _meminfo(env, policy), node_options)


@check("memory.claude-processes")
def test_claude_processes(env, policy):
    return evaluate_processes(
        processes.claude_processes(env, policy.probe_timeout_s),
        env.uid,
        _meminfo(env, policy),
        policy,
        figure="RSS" if env.platform != "darwin" else MAC_FIGURE,
    )


@check("memory.killed-sessions")
def test_killed_sessions(env, policy):
    entries = sessions.registry(env)
    live_cwds = {entry.cwd for entry in entries if entry.alive}
    stale = [entry for entry in entries if not entry.alive]
    return evaluate_killed_sessions(stale, sessions.ungraceful_projects(env, policy.config_max_bytes), live_cwds)
