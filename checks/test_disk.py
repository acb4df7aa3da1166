"""Free space and inodes on each filesystem Claude Code writes to."""

from claude_preflight.checking import check
from claude_preflight.probes import disk
from claude_preflight.rules.disk import evaluate_space


@check("disk.space", targets=lambda env, policy: disk.filesystem_targets(env))
def test_disk_space(env, policy, target):
    # The transcript history is evidence only on the filesystem that holds it.
    history = (
        disk.session_history(env, policy.old_session_days, policy.scan_max_entries)
        if "config dir" in target.roles
        else None
    )
    return evaluate_space(
        target,
        disk.space(env, target),
        history,
        fail_gib=policy.disk_fail_gib,
        warn_gib=policy.disk_warn_gib,
        warn_inodes_percent=policy.disk_warn_inodes_percent,
        old_days=policy.old_session_days,
        platform=env.platform,
    )
