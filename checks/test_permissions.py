"""Ownership and write access of everything Claude Code writes."""

from claude_preflight.checking import check
from claude_preflight.probes import permissions
from claude_preflight.rules.permissions import evaluate_ownership, evaluate_path, evaluate_tmp_entries


@check("permissions.path", targets=lambda env, policy: permissions.permission_targets(env))
def test_path_writable(env, policy, target):
    facts = permissions.path_facts(env, target.path)
    result = evaluate_path(target, facts, env.user_name(env.uid), env.uid, env.platform)
    if target.id == "tmp-dir":
        result = evaluate_tmp_entries(permissions.blocked_tmp_entries(env), result)
    return result


@check("permissions.ownership")
def test_nothing_foreign_owned(env, policy):
    scan = permissions.foreign_owned(env, env.config_dir, policy.scan_max_entries)
    return evaluate_ownership(scan, env.user_name(env.uid))
