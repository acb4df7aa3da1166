"""Installation and runtime: which claude runs, known-bad versions, Node, ripgrep, snapshots, OS limits, CPU."""

from claude_preflight.checking import check
from claude_preflight.probes import install, macos, mcp, memory
from claude_preflight.rules import install as rules


def _found(env, policy):
    return install.installations(env, policy.probe_timeout_s)


def _running(env, policy):
    return install.running(env, policy.probe_timeout_s)


@check("install.claude")
def test_installations(env, policy):
    codesign = macos.codesign_kills(env, policy.recent_session_days) if env.platform == "darwin" else None
    return rules.evaluate_installations(_found(env, policy), codesign, env.platform)


@check("install.known-bad")
def test_known_bad_version(env, policy):
    return rules.evaluate_known_bad(_running(env, policy), install.known_bad(), env.platform)


@check("install.node", early=True)
def test_node(env, policy):
    commands = [
        s.config.get("command", "") for s in mcp.discover(env, policy.config_max_bytes) if isinstance(s.config, dict)
    ]
    facts = install.node_facts(
        env, _running(env, policy), [c for c in commands if isinstance(c, str)], policy.probe_timeout_s
    )
    return rules.evaluate_node(facts, memory.wsl_facts(env, policy.probe_timeout_s).is_wsl, env.platform)


@check("install.auto-update")
def test_auto_update(env, policy):
    return rules.evaluate_auto_update(_found(env, policy), install.auto_update(env, policy.config_max_bytes))


@check("install.ripgrep")
def test_ripgrep(env, policy):
    return rules.evaluate_ripgrep(install.ripgrep(env, _running(env, policy), policy.probe_timeout_s), env.platform)


@check("install.shell-snapshots")
def test_shell_snapshots(env, policy):
    return rules.evaluate_snapshots(install.shell_snapshots(env, policy.snapshots_checked, policy.probe_timeout_s))


@check("install.os-limits")
def test_os_limits(env, policy):
    if env.platform == "darwin":
        return rules.evaluate_limits_mac(macos.mac_limits(env, policy.probe_timeout_s), policy.nofile_min)
    return rules.evaluate_limits(
        install.limits(env), policy.inotify_min_watches, policy.inotify_min_instances, policy.nofile_min
    )


@check("install.cpu")
def test_cpu(env, policy):
    if env.platform == "darwin":
        running = _running(env, policy)
        return rules.evaluate_cpu_mac(macos.mac_cpu(env, policy.probe_timeout_s, running.path if running else None))
    return rules.evaluate_cpu(install.cpu(env))


@check("install.terminal")
def test_terminal(env, policy):
    return rules.evaluate_terminal(install.terminal(env))
