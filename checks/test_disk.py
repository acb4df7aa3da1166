"""Free space and inodes on each filesystem Claude Code writes to."""

from claude_preflight.checking import check
from claude_preflight.probes import disk
from claude_preflight.rules.disk import evaluate_space


@check("disk.space", targets=disk.filesystem_targets)
def test_disk_space(env, policy, target):
    history = disk.session_history(env, policy.old_session_days, policy.scan_max_entries)
    holds_history = any(role in ("config dir",) for role in target.roles)
    return evaluate_space(
        target,
        disk.space(env, target),
        history if holds_history else None,
        fail_gib=policy.disk_fail_gib,
        warn_gib=policy.disk_warn_gib,
        warn_inodes_percent=policy.disk_warn_inodes_percent,
        old_days=policy.old_session_days,
    )
