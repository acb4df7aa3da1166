"""Does claude-preflight's verdict on a settings file agree with what the real Claude Code does with it?

    python tools/conformance.py                          # the pinned release (tests/conftest.py CLAUDE_VERSION)
    python tools/conformance.py --claude-version latest  # the newest release: prints the drift
    python tools/conformance.py --claude-version 2.1.333 --all-keys

Each case is one settings file in a scratch home. The real `claude -p` runs against a fake Anthropic API on
127.0.0.1 (fake key, no retries) and we read its stderr: "These settings did not load" = the file was dropped (our
verdict must be fail); "These settings entries were skipped" = an entry was skipped (warn, naming it); nothing = silent
(ok, or a warn that the value is ignored or the key is unknown). The release is installed with `npm install` into
~/.cache/claude-preflight/claude-code-<version>/ (or $PREFLIGHT_CLAUDE_CACHE) once. With a release other than the one
the vendored schema names, the drift also lists keys and hook events added or removed, from the SDK of that release.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from claude_preflight.env import Env  # noqa: E402
from claude_preflight.probes.config import config_targets, read_config  # noqa: E402
from claude_preflight.rules.config import evaluate_config  # noqa: E402

DROPPED = "These settings did not load"
SKIPPED = "These settings entries were skipped"
HOOK = {"type": "command", "command": "true"}


@dataclass(frozen=True)
class Case:
    name: str
    settings: object  # the JSON document, or a str written as is
    where: str = "user"  # user (~/.claude/settings.json) or project (.claude/settings.json)
    cls: str = ""  # the class of the issue this case stands for


def _hooks(event: str, hook: object = None, matcher: object = "") -> dict:
    return {"hooks": {event: [{"matcher": matcher, "hooks": [HOOK if hook is None else hook]}]}}


CASES: list[Case] = [
    # Valid keys that an older hand-written schema did not know (silent).
    *(Case(f"valid-{k}", {k: v}, cls="valid key") for k, v in {
        "proxyAuthHelper": "/bin/true", "processWrapper": "/usr/bin/env", "respectGitignore": False,
        "desktopSessionCleanupPeriodDays": 0, "syncClaudeAiSkills": False, "attributionProject": "",
        "fallbackModel": ["claude-haiku-4-5"], "modelOverrides": {"claude-opus-4-1": "x"}, "disableAllHooks": True,
        "bashOutputMaxChars": 50000, "timeFormat": "24-hour", "totalTokensReminder": "off", "remote": {},
        "autoCompactWindow": 200000, "forceLoginOrgUUID": ["00000000-0000-0000-0000-000000000000"],
        "skillOverrides": {"x": "off"}, "sandbox": {"enabled": False}, "statusLine": {"type": "command",
        "command": "echo"}, "attribution": False, "cleanupPeriodDays": 30, "$schema": "https://json.schemastore.org",
    }.items()),
    Case("valid-forceLoginOrgUUID-string", {"forceLoginOrgUUID": "00000000-0000-0000-0000-000000000000"},
         cls="valid key"),
    *(Case(f"valid-permissions-{k}", {"permissions": {k: v}}, cls="valid permissions key") for k, v in {
        "allow": ["Bash(ls:*)"], "deny": ["Read(./.env)"], "ask": [], "defaultMode": "plan",
        "disableBypassPermissionsMode": "disable", "additionalDirectories": ["/tmp"],
        "disableAutoMode": "disable",
    }.items()),
    *(Case(f"valid-hook-{e}", _hooks(e), cls="hook event") for e in
      ("DirectoryAdded", "PreModelSwitch", "PostModelSwitch", "PreSkillShellCommand", "Stop", "PreToolUse")),
    # Wrong types: the whole file is dropped.
    Case("type-model-number", {"model": 5}, cls="wrong type"),
    Case("type-verbose-string", {"verbose": "yes"}, cls="wrong type"),
    Case("type-permissions-string", {"permissions": "allow"}, cls="wrong type"),
    Case("type-cleanup-string", {"cleanupPeriodDays": "thirty"}, cls="wrong type"),
    Case("type-env-array", {"env": ["A=1"]}, cls="wrong type"),
    Case("type-allow-string", {"permissions": {"allow": "Bash"}}, cls="wrong type"),
    Case("type-forceLoginOrgUUID-number", {"forceLoginOrgUUID": 5}, cls="wrong type"),
    Case("type-autoCompactWindow-string", {"autoCompactWindow": "big"}, cls="silently ignored"),
    Case("project-type-model", {"model": ["a"]}, where="project", cls="wrong type"),
    # Values Claude Code silently ignores.
    *(Case(f"ignored-{k}", {k: v}, cls="silently ignored") for k, v in {
        "effortLevel": "ultra", "theme": 5, "editorMode": "emacs", "viewMode": 1, "autoCompactWindow": 5000,
        "promptCacheTtl": "1d", "forceLoginMethod": "sso", "preferredNotifChannel": "pager", "maxProseWidth": -1,
        "spinnerTipsOverride": "x", "strictPluginOnlyCustomization": 5, "subagentStatusLine": "x",
    }.items()),
    # Entries skipped: hooks, MCP server lists, marketplaces, and pre-filtered enums.
    Case("skip-hook-unknown-event", {"hooks": {"PreToolUs": [{"hooks": [HOOK]}]}}, cls="entry skipped"),
    Case("skip-hook-stop-bad-type", _hooks("Stop", {"type": "shell", "command": "true"}), cls="hook type"),
    Case("skip-hook-stop-not-array", {"hooks": {"Stop": {"hooks": []}}}, cls="entry skipped"),
    Case("drop-hook-pretooluse-bad-type", _hooks("PreToolUse", {"type": "shell"}), cls="hook type"),
    Case("drop-hook-permissionrequest-bad-type", _hooks("PermissionRequest", {"type": "x"}), cls="hook type"),
    Case("drop-hook-pretooluse-matcher-number", _hooks("PreToolUse", matcher=5), cls="hook type"),
    Case("skip-hook-stop-no-command", _hooks("Stop", {"type": "command"}), cls="hook type"),
    Case("valid-hook-http", _hooks("Stop", {"type": "http", "url": "http://127.0.0.1:9/"}), cls="hook type"),
    Case("skip-allowedMcpServers-entry", {"allowedMcpServers": [{"bogus": 1}]}, cls="entry skipped"),
    Case("skip-deniedMcpServers-entry", {"deniedMcpServers": [5]}, cls="entry skipped"),
    Case("skip-extraKnownMarketplaces-entry", {"extraKnownMarketplaces": {"m": 5}}, cls="entry skipped"),
    Case("skip-teammateMode", {"teammateMode": "x"}, cls="entry skipped"),
    Case("skip-alias-additionalMarketplaces", {"additionalMarketplaces": 5}, cls="entry skipped"),
    Case("skip-allow-entry-number", {"permissions": {"allow": ["Bash", 5]}}, cls="entry skipped"),
    # env values that are not strings are converted.
    Case("env-number", {"env": {"BASH_DEFAULT_TIMEOUT_MS": 60000}}, cls="env"),
    Case("env-boolean", {"env": {"X": True}}, cls="env"),
    Case("env-null", {"env": {"X": None}}, cls="env"),
    # null: accepted by some keys, drops the file for others.
    *(Case(f"null-{k}", {k: None}, cls="null") for k in (
        "model", "permissions", "theme", "effortLevel", "attribution", "policyHelper", "hooks", "env",
        "cleanupPeriodDays", "autoCompactWindow", "allowedMcpServers",
    )),
    # Managed-only keys in user or project settings are skipped.
    *(Case(f"managed-only-{k}", {k: v}, cls="managed only") for k, v in {
        "managedMcpServers": {}, "attributionProjectPolicy": {"default": ""}, "deniedModels": ["x"],
        "availableModelsMatch": "exact",
    }.items()),
    Case("project-managed-only", {"managedMcpServers": {}}, where="project", cls="managed only"),
    # Enums and ranges.
    Case("enum-defaultMode-yolo", {"permissions": {"defaultMode": "yolo"}}, cls="enum"),
    Case("enum-defaultShell-zsh", {"defaultShell": "zsh"}, cls="enum"),
    Case("enum-autoUpdatesChannel", {"autoUpdatesChannel": "beta"}, cls="enum"),
    Case("enum-tui", {"tui": "compact"}, cls="enum"),
    Case("enum-skillOverrides-value", {"skillOverrides": {"x": "maybe"}}, cls="enum"),
    Case("range-cleanup-zero", {"cleanupPeriodDays": 0}, cls="range"),
    Case("range-cleanup-fraction", {"cleanupPeriodDays": 1.5}, cls="range"),
    Case("range-feedbackSurveyRate", {"feedbackSurveyRate": 2}, cls="range"),
    Case("range-skillListingBudgetFraction", {"skillListingBudgetFraction": 1.5}, cls="range"),
    Case("range-desktopCleanup-negative", {"desktopSessionCleanupPeriodDays": -1}, cls="range"),
    # Keys that are not settings keys (some live in ~/.claude.json), and typos.
    *(Case(f"not-a-setting-{k}", {k: v}, cls="not a settings key") for k, v in {
        "autoUpdates": False, "leftArrowOpensAgents": True, "skippedMarketplaces": [], "skippedPlugins": [],
        "sshHostAllowlist": [], "thisKeyDoesNotExist": True, "mcpServers": {},
    }.items()),
    Case("typo-permisions", {"permisions": {"allow": []}}, cls="unknown key"),
    Case("typo-permissions-alow", {"permissions": {"alow": ["Bash"]}}, cls="unknown key"),
    # Not JSON, not an object.
    Case("json-trailing-comma", '{"model": "x",}', cls="json"),
    Case("json-array", "[]", cls="json"),
    Case("json-empty-file", "", cls="json"),
]  # fmt: skip


# -- a fake Anthropic API: one short streamed answer to every request -------------------------------------------
def _sse(name: str, data: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n".encode()


MESSAGE = {"id": "msg_preflight", "type": "message", "role": "assistant", "model": "claude-haiku-4-5", "content": [],
           "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}  # fmt: skip
STREAM = b"".join([
    _sse("message_start", {"message": MESSAGE}),
    _sse("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
    _sse("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "ok"}}),
    _sse("content_block_stop", {"index": 0}),
    _sse("message_delta", {"delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": 1}}),
    _sse("message_stop", {}),
])  # fmt: skip


class _Api(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("content-length", 0)))
        if "stream" not in self.path and b"count_tokens" in self.path.encode():
            body = json.dumps({"input_tokens": 1}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
        else:
            body = STREAM
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(404)
        self.send_header("content-length", "0")
        self.end_headers()


class FakeApi:
    """The fake API on 127.0.0.1, on a free port; stop() ends it."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- one case: the CLI's verdict and ours --------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    case: Case
    cli: str  # drop | skip | silent | error
    cli_text: str  # the settings lines Claude Code printed
    ours: str  # ok | warn | fail | ...
    our_text: str

    @property
    def agrees(self) -> bool:
        if self.cli == "drop":
            return self.ours == "fail"
        if self.cli == "skip":
            return self.ours == "warn" and all(path.split("[")[0].split(".")[0] in self.our_text
                                               for path in skipped_paths(self.cli_text))  # fmt: skip
        return self.ours in ("ok", "warn") and self.cli == "silent"


def skipped_paths(text: str) -> list[str]:
    """The settings paths Claude Code names: `  /path/settings.json (hooks.Foo): ...`."""
    return [
        line.split(" (", 1)[1].split(")", 1)[0] for line in text.splitlines() if line.startswith("  ") and " (" in line
    ]


def _layout(case: Case, root: Path) -> tuple[Path, Path, Path]:
    home, project = root / "home", root / "project"
    (home / ".claude").mkdir(parents=True)
    (project / ".claude").mkdir(parents=True)
    path = (home if case.where == "user" else project) / ".claude" / "settings.json"
    path.write_text(case.settings if isinstance(case.settings, str) else json.dumps(case.settings))
    # A trusted project, and no first-run prompts: a bare home would not load project settings.
    (home / ".claude.json").write_text(json.dumps({
        "hasCompletedOnboarding": True,
        "projects": {str(project): {"hasTrustDialogAccepted": True, "allowedTools": []}},
    }))  # fmt: skip
    return home, project, path


def cli_verdict(claude: Path, home: Path, project: Path, api_url: str, timeout: float = 90) -> tuple[str, str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "ANTHROPIC_BASE_URL": api_url, "TMPDIR": str(home.parent),
           "ANTHROPIC_API_KEY": "sk-ant-api03-preflight-conformance-key", "CLAUDE_CODE_MAX_RETRIES": "0",
           "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1", "API_TIMEOUT_MS": "20000"}  # fmt: skip
    try:
        run = subprocess.run([str(claude), "-p", "hi"], cwd=project, env=env, capture_output=True, text=True,
                             timeout=timeout, stdin=subprocess.DEVNULL)  # fmt: skip
    except subprocess.TimeoutExpired:
        return "error", f"claude -p did not finish within {timeout:.0f} s"
    stderr = run.stderr
    if DROPPED in stderr:
        return "drop", stderr[stderr.index(DROPPED) :]
    if SKIPPED in stderr:
        return "skip", stderr[stderr.index(SKIPPED) :]
    if run.returncode != 0:
        return "error", f"exit {run.returncode}: {(run.stdout + stderr)[-500:]}"
    return "silent", ""


def our_verdict(home: Path, project: Path, where: str) -> tuple[str, str]:
    env = Env(home=home, project=project, environ={"HOME": str(home), "PATH": "/usr/bin:/bin"})
    target = next(
        t for t in config_targets(env) if t.id == ("user-settings" if where == "user" else "project-settings")
    )
    result = evaluate_config(target, read_config(env, target, 50 * 1024 * 1024))
    return result.status.value, "\n".join([result.summary, *result.evidence])


def run_case(claude: Path, case: Case, api_url: str) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="preflight-conformance-") as tmp:
        home, project, _ = _layout(case, Path(tmp))
        cli, cli_text = cli_verdict(claude, home, project, api_url)
        ours, our_text = our_verdict(home, project, case.where)
    return Outcome(case, cli, cli_text, ours, our_text)


def run_cases(claude: Path, cases: list[Case], workers: int = 2) -> list[Outcome]:
    """Every case against one fake API, `workers` CLIs at a time (each is a ~0.7 s, ~200 MB process)."""
    api = FakeApi()
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda c: run_case(claude, c, api.url), cases))
    finally:
        api.stop()


# -- the command ------------------------------------------------------------------------------------------------
def install(version: str, timeout: float = 900) -> Path:
    """The release's `claude`, installed once into the cache folder the tests use."""
    cache = Path(os.environ.get("PREFLIGHT_CLAUDE_CACHE") or Path.home() / ".cache" / "claude-preflight")
    binary = cache / f"claude-code-{version}" / "node_modules" / ".bin" / "claude"
    if not binary.exists():
        npm = shutil.which("npm") or sys.exit("npm is not installed")
        subprocess.run([npm, "install", "--prefix", str(binary.parents[2]), "--no-audit", "--no-fund",
                        "--loglevel=error", f"@anthropic-ai/claude-code@{version}"], check=True, timeout=timeout)  # fmt: skip
    return binary


def key_sweep() -> list[Case]:
    """One case per key of the vendored schema: a value of the wrong type, and null."""
    from claude_preflight.rules.settings_schema import SETTINGS_KEYS

    wrong = {"string": 12345.5, "boolean": 12345.5, "integer": "x", "number": "x", "object": 12345.5, "array": 12345.5}
    cases = []
    for key, spec in SETTINGS_KEYS.items():
        first = spec.split("|")[0].replace("string[]", "array")
        if first in wrong:
            cases.append(Case(f"sweep-type-{key}", {key: wrong[first]}, cls="sweep"))
        cases.append(Case(f"sweep-null-{key}", {key: None}, cls="sweep"))
    return cases


def schema_drift(sdk_version: str) -> list[str]:
    """Keys and hook events the SDK of another release has that the vendored data has not, and back."""
    sys.path.insert(0, str(ROOT / "tools"))
    import settings_schema as generator  # tools/settings_schema.py

    from claude_preflight.rules import settings_schema as vendored

    new = generator.generate(sdk_version)
    lines = [f"schema: vendored Claude Code {vendored.CLI_VERSION}, compared with {new['cli_version']}"]
    for label, old, now in (("keys", set(vendored.SETTINGS_KEYS), set(new["keys"])),
                            ("hook events", set(vendored.HOOK_EVENTS), set(new["hook_events"]))):  # fmt: skip
        lines.append(
            f"  {label}: {len(now)} (added {sorted(now - old) or 'none'}, removed {sorted(old - now) or 'none'})"
        )
    changed = sorted(k for k in set(vendored.SETTINGS_KEYS) & set(new["keys"])
                     if vendored.raw_data()["keys"][k] != new["keys"][k])  # fmt: skip
    lines.append(f"  keys whose type or consequences changed: {changed or 'none'}")
    return lines


def report(outcomes: list[Outcome]) -> list[str]:
    agree = [o for o in outcomes if o.agrees]
    lines = [f"agreement: {len(agree)}/{len(outcomes)} ({100 * len(agree) / max(1, len(outcomes)):.0f}%)"]
    for o in outcomes:
        if not o.agrees:
            cli = o.cli_text.splitlines()[1].strip() if o.cli_text.count("\n") else o.cli_text
            lines.append(f"  DIFFERS {o.case.name}: Claude Code {o.cli} ({cli[:160]}); "
                         f"claude-preflight {o.ours} ({o.our_text.splitlines()[0][:160]})")  # fmt: skip
    return lines


def pinned_version() -> str:
    for line in (ROOT / "tests" / "conftest.py").read_text().splitlines():
        if line.startswith("CLAUDE_VERSION"):
            return line.split("=")[1].strip().strip("\"'")
    raise SystemExit("tests/conftest.py pins no CLAUDE_VERSION")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claude-version", default=None, help="a release, or 'latest'; default the pinned one")
    parser.add_argument("--claude", type=Path, help="a claude binary to use instead of installing one")
    parser.add_argument("--all-keys", action="store_true", help="also one wrong-type and one null case per key")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write every case's verdicts here")
    args = parser.parse_args(argv)
    version = args.claude_version or pinned_version()
    if version == "latest":
        npm = shutil.which("npm") or sys.exit("npm is not installed")
        version = subprocess.run([npm, "view", "@anthropic-ai/claude-code", "version"], capture_output=True,
                                 text=True, timeout=60, check=True).stdout.strip()  # fmt: skip
    claude = args.claude or install(version)
    cases = CASES + (key_sweep() if args.all_keys else [])
    outcomes = run_cases(claude, cases, args.workers)
    print(f"Claude Code {version}: {len(cases)} settings cases")
    print("\n".join(report(outcomes)))
    from claude_preflight.rules.settings_schema import CLI_VERSION

    if version != CLI_VERSION:
        print("\n".join(schema_drift("0.3." + version.split(".")[2])))
        print("refresh: python tools/settings_schema.py --claude-version", version, "--write")
    if args.json:
        args.json.write_text(json.dumps([{"case": o.case.name, "class": o.case.cls, "claude": o.cli, "ours": o.ours,
                                          "agrees": o.agrees, "claude_text": o.cli_text, "our_text": o.our_text}
                                         for o in outcomes], indent=1))  # fmt: skip
    return 0 if all(o.agrees for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
