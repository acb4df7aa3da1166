"""Installed plugins: each enabled one loads, with the hooks, MCP servers and commands it references."""

from claude_preflight.checking import check
from claude_preflight.probes import plugins
from claude_preflight.rules.plugins import evaluate_plugin


@check("plugins.installed", targets=plugins.plugin_targets)
def test_plugin_installed(env, policy, target):
    return evaluate_plugin(plugins.inspect(env, target, policy.config_max_bytes))
