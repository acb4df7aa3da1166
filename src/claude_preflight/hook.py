"""`claude-preflight hook`: a SessionStart hook for Claude Code, and `install-hook`, which adds it to settings.

Claude Code runs the hook when a session starts and passes its JSON on stdin (session_id, cwd, source). The hook
runs the checks that are fast and offline, without pytest: no MCP server is started, nothing is sent, no file is
written. It prints the JSON a SessionStart hook returns, with one line per warn or fail in `additionalContext`
(so Claude can tell the user), and nothing at all when everything is healthy. It always exits 0: a health check
never blocks a session.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import json
import os
import pkgutil
import shlex
import sys
import threading
import time
from pathlib import Path

# Families and checks that answer from files and /proc in well under a second and start nothing (hooks and plugins
# are read, never run). Left out: the
# network family (sends requests), installation (runs `claude --version` while Claude Code is starting), the
# session transcripts (can be gigabytes), the kernel log and the process table (the starting session counts).
FAMILIES = ("config", "permissions", "disk", "memory", "mcp", "context", "hooks", "plugins")
LEFT_OUT = {"memory.oom-kills", "memory.claude-processes"}
BUDGET_S = 5.0  # the whole hook; a check not done by then is left out of the answer (the full run reports it)
MAX_STDIN = 1 << 20
MAX_LINES = 12
HOOK_COMMAND = "claude-preflight hook"


def _checks() -> list:
    import claude_preflight.checks
    from claude_preflight.checking import REGISTRY

    for module in pkgutil.iter_modules(claude_preflight.checks.__path__):
        importlib.import_module(f"claude_preflight.checks.{module.name}")
    return [s for i, s in sorted(REGISTRY.items()) if i.split(".")[0] in FAMILIES and i not in LEFT_OUT]


def read_input(stream) -> dict:
    """The hook's JSON (bounded); anything unreadable is an empty input, never an error."""
    try:
        data = json.loads(stream.read(MAX_STDIN) or "{}")
    except (ValueError, OSError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def findings(home: Path, project: Path, overrides: dict[str, str], budget: float = BUDGET_S) -> list[str]:
    """One line per warn and fail, fails first, from the checks that finished within the budget."""
    from claude_preflight import children
    from claude_preflight.checking import discover, run
    from claude_preflight.env import Env
    from claude_preflight.policy import THRESHOLDS, Policy
    from claude_preflight.probes.secrets import collect_secrets
    from claude_preflight.redact import Redactor, is_secret_name
    from claude_preflight.report import visible

    env = Env(home=home, project=project)
    policy = Policy.from_strings(
        {"check_timeout_s": str(budget)} | {k: v for k, v in overrides.items() if k in THRESHOLDS},
        offline=True,
        mcp_start=False,
    )
    redact = Redactor(learned=env.this_run.learned)
    try:
        redact.add(collect_secrets(env, policy.config_max_bytes))
    except Exception:  # noqa: BLE001 - fail closed: every secret-named variable is masked
        redact.add(v for k, v in env.environ.items() if is_secret_name(k))
    lines: list[tuple[int, str]] = []
    lock = threading.Lock()

    def one(spec) -> None:
        targets = discover(spec, env, policy) if spec.targets else [None]
        for target in targets:
            result = run(spec, env, policy, target)
            if result.status.value in ("warn", "fail"):
                label = f"[{target.id}]" if target is not None and getattr(target, "id", None) else ""
                text = f"{result.status.value.upper()} {spec.info.id}{label}: {result.summary}"
                with lock:
                    lines.append((result.status.value == "warn", visible(redact(text))))

    deadline = time.monotonic() + budget
    workers = [threading.Thread(target=one, args=(spec,), daemon=True) for spec in _checks()]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    children.stop_all()  # nothing here starts a process; should a probe ever, it does not outlive the hook
    with lock:
        return [text for _, text in sorted(lines)]


def context_text(lines: list[str]) -> str:
    shown = lines[:MAX_LINES]
    more = [f"... and {len(lines) - MAX_LINES} more"] if len(lines) > MAX_LINES else []
    return "\n".join(
        [
            "claude-preflight found problems that can crash or degrade this Claude Code session. Tell the user "
            "about them briefly; the fix for each is printed by `claude-preflight -k <check id>`:",
            *shown,
            *more,
        ]
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="claude-preflight hook", description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", metavar="PATH", help="default: $HOME")
    parser.add_argument("--project", metavar="PATH", help="default: $CLAUDE_PROJECT_DIR, else the hook's cwd")
    parser.add_argument("-o", dest="override", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--budget", type=float, default=BUDGET_S, help=f"seconds for all checks (default {BUDGET_S})")
    try:
        args = parser.parse_args(argv)
    except SystemExit:
        return 0  # a bad hook command line must not block a session; the usage went to stderr
    try:
        return _run(args)
    except Exception as exc:  # noqa: BLE001 - never block a session: say so on stderr and exit 0
        print(f"claude-preflight hook: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 0


def _run(args) -> int:
    from claude_preflight.cli import check_override

    overrides = {}
    for text in args.override:
        problem = check_override(text, lambda: set())
        if problem:
            print(f"claude-preflight hook: {problem}", file=sys.stderr)
            continue
        name, value = text.split("=", 1)
        overrides[name.strip()] = value.strip()
    given = read_input(sys.stdin)
    home = Path(args.home or os.environ.get("HOME") or Path.home()).expanduser()
    cwd = given.get("cwd") if isinstance(given.get("cwd"), str) else None
    project = Path(args.project or os.environ.get("CLAUDE_PROJECT_DIR") or cwd or os.getcwd()).expanduser()
    lines = findings(home.absolute(), project.absolute(), overrides, args.budget)
    if lines:
        answer = {"hookSpecificOutput": {"hookEventName": "SessionStart", "additionalContext": context_text(lines)}}
        sys.stdout.write(json.dumps(answer) + "\n")
    return 0


# -- install-hook ------------------------------------------------------------------------------------
def hook_entry(command: str) -> dict:
    return {"hooks": [{"type": "command", "command": command, "timeout": 30}]}


def with_hook(settings: dict, command: str) -> tuple[dict, bool]:
    """Settings with our SessionStart hook added (a copy), and whether anything changed."""
    hooks = settings.get("hooks")
    if hooks is not None and not isinstance(hooks, dict):
        raise ValueError('"hooks" in settings.json is not an object: fix it first (claude-preflight -k config.file)')
    starts = (hooks or {}).get("SessionStart", [])
    if not isinstance(starts, list):
        raise ValueError('"hooks.SessionStart" in settings.json is not a list: fix it first')
    for group in starts:
        for hook in (group.get("hooks") or []) if isinstance(group, dict) else []:
            text = str(hook.get("command", "")) if isinstance(hook, dict) else ""
            if text == command or "claude-preflight hook" in text or "claude_preflight hook" in text:
                return settings, False
    updated = json.loads(json.dumps(settings))
    updated.setdefault("hooks", {}).setdefault("SessionStart", []).append(hook_entry(command))
    return updated, True


def install_main(argv: list[str]) -> int:
    from claude_preflight.env import Env

    parser = argparse.ArgumentParser(
        prog="claude-preflight install-hook",
        description="Add the SessionStart hook to ~/.claude/settings.json: a backup first, written atomically, "
        "nothing changed when it is already there; shows the diff.",
    )
    parser.add_argument("--home", metavar="PATH", help="default: $HOME ($CLAUDE_CONFIG_DIR is honoured)")
    parser.add_argument("--command", default=None, help=f"the hook command (default: {HOOK_COMMAND!r})")
    parser.add_argument("--dry-run", action="store_true", help="show the diff, write nothing")
    args = parser.parse_args(argv)
    env = Env(home=Path(args.home or os.environ.get("HOME") or Path.home()).expanduser().absolute(), project=Path.cwd())
    path = env.config_dir / "settings.json"
    command = args.command or default_command()
    try:
        raw = path.read_bytes() if path.exists() else b""
        before_text = raw.decode("utf-8")
        settings = json.loads(before_text) if before_text.strip() else {}
        if not isinstance(settings, dict):
            raise ValueError("settings.json is not a JSON object")
        updated, changed = with_hook(settings, command)
    except (OSError, ValueError, RecursionError) as exc:
        print(f"claude-preflight install-hook: {path}: {exc}; nothing changed", file=sys.stderr)
        return 1
    if not changed:
        print(f"{path}: the claude-preflight SessionStart hook is already there; nothing changed")
        return 0
    after_text = json.dumps(updated, indent=2) + "\n"
    diff = difflib.unified_diff(
        before_text.splitlines(keepends=True), after_text.splitlines(keepends=True), str(path), f"{path} (new)"
    )
    sys.stdout.writelines(diff)
    if args.dry_run:
        print("--dry-run: nothing written")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    if raw:
        backup = path.with_name(f"{path.name}.preflight-backup-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
        Env.write_atomically(backup, [raw], path.stat().st_mode & 0o777)
        print(f"backup: {backup}")
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    Env.write_atomically(path, [after_text.encode("utf-8")], mode)
    print(f"wrote {path}: Claude Code runs `{command}` when a session starts")
    return 0


def default_command() -> str:
    """`claude-preflight hook` when that is the command on PATH, else this interpreter with -m (a venv or a clone)."""
    import shutil

    found = shutil.which("claude-preflight")
    here = Path(sys.executable).parent / "claude-preflight"
    if found and Path(found).resolve() == here.resolve():
        return HOOK_COMMAND
    return f"{shlex.quote(sys.executable)} -m claude_preflight hook"
