"""Native Windows: Git Bash, the native install on PATH, managed settings folders, long paths (skip elsewhere)."""

from claude_preflight.checking import check
from claude_preflight.probes import install, transcripts, windows
from claude_preflight.rules import windows as rules


@check("windows.git-bash")
def test_git_bash(env, policy):
    facts = windows.git_bash(env, policy.config_max_bytes)
    return rules.evaluate_git_bash(facts, install.running_version(env, policy.probe_timeout_s))


@check("windows.path")
def test_local_bin_on_path(env, policy):
    running = install.running(env, policy.probe_timeout_s)
    return rules.evaluate_local_bin(windows.local_bin(env), running.path if running else None)


@check("windows.managed-settings")
def test_managed_settings(env, policy):
    return rules.evaluate_managed(windows.managed_places(env))


@check("windows.long-paths")
def test_long_paths(env, policy):
    paths = (t.path for t in transcripts.transcripts(env, policy.scan_max_entries))
    return rules.evaluate_long_paths(windows.long_paths(env, paths, policy.probe_timeout_s))
