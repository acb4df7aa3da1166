"""Installed plugins and their marketplaces: where Claude Code reads each plugin from, and what it brings.

The layout is the one Claude Code 2.1.332 wrote when a plugin was installed from a local marketplace folder
(tests/fixtures/real-claude/plugins/):

  <config>/plugins/known_marketplaces.json   {name: {"source": {"source": "directory", "path": ...},
                                              "installLocation": ..., "lastUpdated": ...}}
  <config>/plugins/installed_plugins.json    {"version": 2, "plugins": {"name@market": [{"scope", "installPath",
                                              "version", "projectPath" (project/local scope)}]}}
  <config>/plugins/cache/<market>/<name>/<version>/   a copy of the plugin
  enabledPlugins {"name@market": true} in the settings file of the install scope

For a "directory" marketplace the real CLI reads the plugin from the marketplace folder, not from the cache
(`claude plugin list --json` says "readFromFolder"; moving the folder away unloads the plugin: "Marketplace
local-market failed to load: cache-miss"). A git marketplace is cloned to <config>/plugins/marketplaces/<name> and its
plugins are read from installPath; a removed cache was copied again from the clone at the next start
(tests/fixtures/real-claude/plugins-git/). GitHub marketplaces are git clones too (not tried: no network here).
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

from claude_preflight.env import Env
from claude_preflight.probes.config import settings_documents
from claude_preflight.probes.files import JsonFile, read_json
from claude_preflight.records import dataclass, field

ROOT_VARIABLE = "${CLAUDE_PLUGIN_ROOT}"
DATA_VARIABLE = "${CLAUDE_PLUGIN_DATA}"  # <config>/plugins/data/<name>-<marketplace>, as 2.1.332 filled it in
# Manifest fields that name files or folders inside the plugin (strings or lists of strings).
PATH_FIELDS = ("commands", "agents", "skills", "hooks", "mcpServers", "outputStyles", "lspServers")


@dataclass(frozen=True)
class Installed:
    """One install record of installed_plugins.json."""

    id: str  # name@marketplace
    name: str
    marketplace: str
    scope: str  # user, project, local
    install_path: Path | None
    version: str | None
    project_path: Path | None
    enabled: bool
    enabled_in: str | None  # the settings file that decides, or None (not enabled anywhere)

    @property
    def label(self) -> str:
        return self.id


@dataclass(frozen=True)
class Problem:
    code: str  # registry, marketplace-unknown, marketplace-missing, marketplace-manifest, not-in-marketplace,
    # folder-missing, cache-missing, manifest, hooks-file, mcp-file, reference
    path: Path | None
    detail: str


@dataclass(frozen=True)
class PluginFacts:
    plugin: Installed
    root: Path | None  # the folder Claude Code reads the plugin from
    read_from: str  # "marketplace folder" or "install cache"
    marketplace_source: dict = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()
    hooks_files: tuple[tuple[Path, dict], ...] = ()  # each hooks file that parses, with its "hooks" object
    mcp_source: Path | None = None
    mcp_servers: dict = field(default_factory=dict)  # name -> config, ${CLAUDE_PLUGIN_ROOT} substituted
    commands: tuple[Path, ...] = ()

    @property
    def loads(self) -> bool:
        """Claude Code loads the plugin at all (a broken manifest or a missing folder unloads all of it)."""
        fatal = {"marketplace-unknown", "marketplace-missing", "marketplace-manifest",
                 "not-in-marketplace", "folder-missing", "manifest"}  # fmt: skip
        return not any(p.code in fatal for p in self.problems)


def plugins_dir(env: Env) -> Path:
    return env.config_dir / "plugins"


def registry(env: Env, max_bytes: int) -> JsonFile:
    return read_json(env, plugins_dir(env) / "installed_plugins.json", max_bytes)


def _enabled_map(env: Env, max_bytes: int) -> dict[str, tuple[bool, str]]:
    """enabledPlugins merged over the settings files, the highest precedence deciding each plugin."""
    merged: dict[str, tuple[bool, str]] = {}
    for target, data in settings_documents(env, max_bytes):
        value = data.get("enabledPlugins")
        if isinstance(value, dict):
            for plugin_id, on in value.items():
                merged.setdefault(str(plugin_id), (on is True, str(target.path)))
    return merged


SPECIAL_MARKETPLACES = ("builtin", "skills-dir", "inline", "synced")  # not installed from a marketplace


def installed(env: Env, max_bytes: int) -> list[Installed]:
    """Every plugin that applies to this project: enabled in a settings file, or installed for it.

    Claude Code loads a plugin from enabledPlugins and its marketplace: with installed_plugins.json broken, the
    2.1.332 CLI still started lint-guard's MCP server (only `claude plugin list` lost it). So the settings decide,
    and the install record adds the cache path, the version and the scope.
    """
    data = registry(env, max_bytes).data
    plugins = data.get("plugins") if isinstance(data, dict) else None
    records: dict[str, dict] = {}
    for plugin_id, entries in (plugins if isinstance(plugins, dict) else {}).items():
        for record in entries if isinstance(entries, list) else [entries]:
            if not isinstance(record, dict):
                continue
            project = record.get("projectPath")
            if str(record.get("scope") or "user") == "user" or (
                isinstance(project, str) and Path(project) == env.project
            ):
                records.setdefault(str(plugin_id), record)
    enabled = _enabled_map(env, max_bytes)
    ids = list(records) + [i for i, (on, _) in enabled.items() if on and i not in records]
    found = []
    for plugin_id in ids:
        name, _, market = plugin_id.partition("@")
        if not market or market in SPECIAL_MARKETPLACES:
            continue
        record = records.get(plugin_id, {})
        on, where = enabled.get(plugin_id, (False, None))
        install_path, project, version = record.get("installPath"), record.get("projectPath"), record.get("version")
        found.append(Installed(plugin_id, name, market, str(record.get("scope") or "user"),
                               Path(install_path) if isinstance(install_path, str) else None,
                               str(version) if version is not None else None,
                               Path(project) if isinstance(project, str) else None, on, where))  # fmt: skip
    return found


def data_dir(env: Env, plugin_id: str) -> Path:
    """The plugin's persistent data folder (Claude Code creates it; we only name it)."""
    return plugins_dir(env) / "data" / re.sub(r"[^A-Za-z0-9_.-]", "-", plugin_id)


def substitute(value, root: str, data: str = ""):
    """${CLAUDE_PLUGIN_ROOT} and ${CLAUDE_PLUGIN_DATA} replaced in every string of a JSON value, as Claude Code
    does before it starts a plugin's hook or MCP server."""
    if isinstance(value, str):
        return value.replace(ROOT_VARIABLE, root).replace(DATA_VARIABLE, data)
    if isinstance(value, list):
        return [substitute(v, root, data) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, root, data) for k, v in value.items()}
    return value


def _locate(env: Env, plugin: Installed, max_bytes: int) -> tuple[Path | None, str, dict, list[Problem]]:
    """The folder Claude Code reads this plugin from (what 2.1.332 did is in tests/fixtures/real-claude/plugins/)."""
    known_path = plugins_dir(env) / "known_marketplaces.json"
    known = read_json(env, known_path, max_bytes)
    markets = known.data if isinstance(known.data, dict) else {}
    market = markets.get(plugin.marketplace)
    if not isinstance(market, dict):
        market = _declared(env, plugin.marketplace, max_bytes)
    if not isinstance(market, dict):
        detail = known.describe() if known.state != "ok" else f"{plugin.marketplace} is not listed"
        return None, "", {}, [Problem("marketplace-unknown", known_path, detail)]
    source = market.get("source") if isinstance(market.get("source"), dict) else {}
    directory = source.get("source") == "directory"
    # A directory marketplace is the folder itself; any other is cloned to <config>/plugins/marketplaces/<name>.
    location = Path(str(market.get("installLocation") or source.get("path") or ""))
    if not _is_dir(env, location):
        return None, "", source, [Problem("marketplace-missing", location, "the folder is gone")]
    manifest_path = location / ".claude-plugin" / "marketplace.json"
    manifest = read_json(env, manifest_path, max_bytes)
    entries = manifest.data.get("plugins") if isinstance(manifest.data, dict) else None
    if not isinstance(entries, list):
        return None, "", source, [Problem("marketplace-manifest", manifest_path, manifest.describe())]
    entry = next((e for e in entries if isinstance(e, dict) and e.get("name") == plugin.name), None)
    if entry is None:
        return None, "", source, [Problem("not-in-marketplace", manifest_path, plugin.name)]
    inside = env.real_path(location / entry["source"]) if isinstance(entry.get("source"), str) else None
    if directory and inside:
        return inside, "marketplace folder", source, []
    cached = plugin.install_path
    if cached and _is_dir(env, cached):
        return cached, "install cache", source, []
    if inside:  # 2.1.332 copied it into the cache again from the marketplace clone at start, offline too
        return inside, "marketplace clone (the install cache is missing: Claude Code copies it again)", source, []
    return cached, "install cache", source, [Problem("cache-missing", cached, "the install cache is missing")]


def _is_dir(env: Env, path: Path) -> bool:
    try:
        return stat.S_ISDIR(env.stat(path).st_mode)
    except OSError:
        return False


def _declared(env: Env, name: str, max_bytes: int) -> dict | None:
    """A marketplace declared in extraKnownMarketplaces that Claude Code has not recorded yet."""
    for _, data in settings_documents(env, max_bytes):
        extra = data.get("extraKnownMarketplaces")
        if isinstance(extra, dict) and isinstance(extra.get(name), dict):
            return extra[name]
    return None


def _paths(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def inspect(env: Env, plugin: Installed, max_bytes: int) -> PluginFacts:
    """What Claude Code would load from one installed plugin, and what stops it."""
    root, read_from, source, problems = _locate(env, plugin, max_bytes)
    record = registry(env, max_bytes)
    if record.state not in ("ok", "missing"):
        problems.append(Problem("registry", record.path, record.describe()))
    if root is None or not {p.code for p in problems} <= {"registry"}:
        return PluginFacts(plugin, root, read_from, source, tuple(problems))
    if not _is_dir(env, root):
        return PluginFacts(plugin, root, read_from, source, (*problems, Problem("folder-missing", root, "no folder")))
    manifest_path = root / ".claude-plugin" / "plugin.json"
    manifest = read_json(env, manifest_path, max_bytes)
    if manifest.state != "missing" and (manifest.state != "ok" or not isinstance(manifest.data, dict)):
        detail = manifest.describe() if manifest.state != "ok" else "the manifest is not a JSON object"
        return PluginFacts(plugin, root, read_from, source, (*problems, Problem("manifest", manifest_path, detail)))
    meta = manifest.data if isinstance(manifest.data, dict) else {}
    for name in PATH_FIELDS:
        for relative in _paths(meta.get(name)):
            target = root / substitute(relative, str(root))
            if not env.exists(target):
                problems.append(Problem("reference", target, f'"{name}" in {manifest_path.name} names {relative}'))
    hooks, mcp_source, servers = _hooks(env, root, meta, max_bytes, problems), None, {}
    mcp_value = meta.get("mcpServers")
    if isinstance(mcp_value, dict):
        mcp_source, servers = manifest_path, mcp_value
    else:
        mcp_source = root / (_paths(mcp_value) or [".mcp.json"])[0]
        doc = read_json(env, mcp_source, max_bytes)
        if doc.state == "ok" and isinstance(doc.data, dict):
            inner = doc.data.get("mcpServers", doc.data)
            servers = inner if isinstance(inner, dict) else {}
        elif doc.state != "missing":
            problems.append(Problem("mcp-file", mcp_source, doc.describe()))
    commands = tuple(sorted(p for p, _ in env.entries(root / "commands") if p.suffix == ".md"))
    return PluginFacts(plugin, root, read_from, source, tuple(problems), tuple(hooks), mcp_source,
                       substitute(servers, str(root), str(data_dir(env, plugin.id))), commands)  # fmt: skip


def _hooks(env: Env, root: Path, meta: dict, max_bytes: int, problems: list[Problem]) -> list[tuple[Path, dict]]:
    """hooks/hooks.json (or the files the manifest names, or its inline object), each with its hooks object."""
    value = meta.get("hooks")
    if isinstance(value, dict):
        return [(root / ".claude-plugin" / "plugin.json", value.get("hooks", value))]
    found = []
    for relative in _paths(value) or ["hooks/hooks.json"]:
        path = root / relative
        doc = read_json(env, path, max_bytes)
        if doc.state == "ok" and isinstance(doc.data, dict) and isinstance(doc.data.get("hooks", {}), dict):
            found.append((path, doc.data.get("hooks", {})))
        elif doc.state != "missing":
            problems.append(Problem("hooks-file", path, doc.describe() if doc.state != "ok" else "no hooks object"))
    return found


def survey(env: Env, max_bytes: int) -> list[PluginFacts]:
    return [inspect(env, plugin, max_bytes) for plugin in installed(env, max_bytes)]


def plugin_targets(env: Env, policy) -> list[Installed]:
    return installed(env, policy.config_max_bytes)
