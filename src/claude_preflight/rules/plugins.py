"""Rules for installed plugins: Claude Code can load each enabled one, with the hooks and MCP servers it brings."""

from __future__ import annotations

from claude_preflight.outcome import Finding, Result, Status, combine, skip
from claude_preflight.probes.plugins import PluginFacts, Problem

DOCS = "https://code.claude.com/docs/en/plugins"
UNLOADED = "Claude Code does not load the plugin at all: its hooks, MCP servers, commands and skills are missing"


def _finding(facts: PluginFacts, problem: Problem) -> Finding:
    """What Claude Code 2.1.332 did in each case (tests/fixtures/real-claude/plugins/README.md), and the fix."""
    p, code, where = facts.plugin, problem.code, problem.path
    reinstall = f"claude plugin uninstall {p.id} && claude plugin install {p.id}"
    if code == "marketplace-missing":
        return Finding(
            Status.FAIL,
            f"the marketplace folder {where} is gone",
            f'{UNLOADED} (`claude plugin list` says "Marketplace {p.marketplace} failed to load"). Put the '
            f"folder back at {where}, or add the marketplace from where it is now and reinstall:\n"
            f"  claude plugin marketplace add <folder>\n  {reinstall}\nor uninstall it: "
            f"claude plugin uninstall {p.id}",
        )
    if code == "marketplace-unknown":
        return Finding(
            Status.FAIL,
            f"marketplace {p.marketplace} is not known ({problem.detail})",
            f"{UNLOADED}. Add the marketplace again (`claude plugin marketplace add <source>`), or "
            f"uninstall the plugin: claude plugin uninstall {p.id}",
        )
    if code == "marketplace-manifest":
        return Finding(
            Status.FAIL,
            f"the marketplace file {where} cannot be used: {problem.detail}",
            f"{UNLOADED}. Fix {where} (`claude plugin validate {where.parent.parent}` shows the problems), "
            f"or uninstall the plugin: claude plugin uninstall {p.id}",
        )
    if code == "not-in-marketplace":
        return Finding(
            Status.FAIL,
            f"marketplace {p.marketplace} no longer lists {p.name} ({where})",
            f'{UNLOADED} ("Plugin {p.name} not found in marketplace {p.marketplace}" in `claude plugin '
            f"list`). Uninstall it (claude plugin uninstall {p.id}), or add it back to {where}.",
        )
    if code == "folder-missing":
        return Finding(
            Status.FAIL,
            f"the plugin folder {where} is missing",
            f'{UNLOADED} ("Plugin directory not found at path: {where}" in `claude plugin list`). Put the '
            f"folder back, fix the plugin's source in the marketplace, or uninstall it: "
            f"claude plugin uninstall {p.id}",
        )
    if code == "cache-missing":
        return Finding(
            Status.WARN,
            f"its install cache {where} is missing",
            f"The plugin comes from outside its marketplace, so Claude Code has to fetch it again from its "
            f"source; without the network the plugin is missing from your sessions. Reinstall it now:\n"
            f"  {reinstall}",
        )
    if code == "manifest":
        return Finding(
            Status.FAIL,
            f"the manifest {where} is broken: {problem.detail}",
            f'{UNLOADED} ("Manifest parse error" in `claude plugin list`). Fix the JSON in {where} '
            f"(`claude plugin validate {where.parent.parent}`), or reinstall: {reinstall}",
        )
    if code == "hooks-file":
        return Finding(
            Status.FAIL,
            f"its hooks file {where} is broken: {problem.detail}",
            f'Claude Code loads the plugin without any of its hooks ("Hook load failed" in `claude plugin '
            f"list`): whatever they guard is unguarded. Fix the JSON in {where}, or reinstall: {reinstall}",
        )
    if code == "mcp-file":
        return Finding(
            Status.FAIL,
            f"its MCP file {where} is broken: {problem.detail}",
            f"Claude Code silently starts without the plugin's MCP servers (not even `claude plugin list` "
            f"says why). Fix the JSON in {where}, or reinstall: {reinstall}",
        )
    if code == "registry":
        return Finding(
            Status.WARN,
            f"{where} is broken: {problem.detail}",
            f"`claude plugin list` shows none of your plugins (enabled ones still load from their "
            f"marketplaces), so updates and uninstalls cannot find them. Reinstall: {reinstall}",
        )
    return Finding(
        Status.WARN,
        f"{problem.detail}, which does not exist ({where})",
        f'Claude Code loads the rest of the plugin without it ("Path not found: {where}" in `claude plugin '
        f"list`). Reinstall it ({reinstall}), or tell the plugin's author.",
    )


def evaluate_plugin(facts: PluginFacts) -> Result:
    p = facts.plugin
    evidence = [
        f"{p.id}: {p.scope} scope, version {p.version or '?'}",
        f"enabled in {p.enabled_in}" if p.enabled else "not enabled in any settings file",
    ]
    if facts.root:
        evidence.append(f"read from the {facts.read_from}: {facts.root}")
    if not p.enabled:
        return skip(f"{p.id} is installed but not enabled: Claude Code does not load it", *evidence)
    findings = [_finding(facts, problem) for problem in facts.problems]
    if facts.loads:
        evidence += [f"hooks: {path}" for path, _ in facts.hooks_files]
        evidence += [f"MCP server plugin:{p.name}:{name} (checked by mcp.server)" for name in facts.mcp_servers]
        evidence += [f"{len(facts.commands)} command(s) in {facts.root}/commands"] if facts.commands else []
    result = combine(findings, evidence, f"{p.id} loads: its manifest parses and what it references exists", DOCS)
    if findings:
        return Result(result.status, f"{p.id}: {result.summary}", result.evidence, result.remediation, DOCS)
    return result
