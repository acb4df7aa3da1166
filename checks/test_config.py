"""Config files: corrupt JSON, wrong types, unknown keys, leftover corrupted copies."""

from claude_preflight.checking import check
from claude_preflight.probes import config
from claude_preflight.rules.config import evaluate_config, evaluate_state_copies


@check("config.file", targets=lambda env, policy: config.config_targets(env))
def test_config_file(env, policy, target):
    doc = config.read_config(env, target, policy.config_max_bytes)
    copies = config.state_copies(env) if target.kind == "user-state" else None
    return evaluate_config(target, doc, copies)


@check("config.corrupt-backups")
def test_corrupt_backups(env, policy):
    return evaluate_state_copies(config.state_copies(env))
