"""Sessions: what recent transcripts say about crashes, their damage (repaired with --fix), index and history."""

from claude_preflight import repairs
from claude_preflight.checking import NoTarget, check
from claude_preflight.probes import disk, transcripts
from claude_preflight.rules import sessions as rules
from claude_preflight.signatures import NO_SIGNATURES, table, transcript_causes


def _all(env, policy):
    return transcripts.transcripts(env, policy.scan_max_entries)


def _indexes(env, policy):
    found = transcripts.session_indexes(env, _all(env, policy), policy.config_max_bytes)
    return found or [NoTarget("no sessions-index.json: Claude Code 2.1.330 keeps none (older 2.1.x releases did)")]


@check("sessions.crash-signatures", targets=lambda env, policy: transcript_causes(), uses=(transcripts.RECENT_SCANS,))
def test_crash_signatures(env, policy, target):
    scans = transcripts.recent_scans(env, policy)
    # The table's patterns are compiled only when some error line is there to match.
    signatures = table() if transcripts.any_errors(scans) else NO_SIGNATURES
    return rules.evaluate_signatures(target, scans, signatures, policy.error_repeat_count, policy.session_days)


@check("sessions.transcript-damage", targets=lambda env, policy: rules.DAMAGE_KINDS, uses=(transcripts.RECENT_SCANS,))
def test_transcript_damage(env, policy, target):
    scans = transcripts.recent_scans(env, policy)
    repaired = repairs.repair_damage(env, target.id, scans, policy) if policy.fix and target.repairable else []
    fix = rules.fix_command("sessions.transcript-damage", env.home, env.project, policy.all_sessions)
    limits = rules.Limits.of(policy)
    return rules.evaluate_damage(target, scans, limits, repaired, policy.session_days, policy.fix, fix)


@check("sessions.index", targets=_indexes)
def test_session_index(env, policy, target):
    repair = None
    if policy.fix:
        live = repairs.live_session_ids(env)
        repair = repairs.rebuild_index(env, target, _all(env, policy), policy.line_limit_bytes, live)
    fix = rules.fix_command("sessions.index", env.home, env.project, policy.all_sessions)
    return rules.evaluate_index(target, repair, env.shown, fix)


@check("sessions.history")
def test_session_history(env, policy):
    history = disk.session_history(env, policy.old_session_days, policy.scan_max_entries)
    return rules.evaluate_history(history, _all(env, policy), policy.old_session_days, policy.history_old_warn_gb)
