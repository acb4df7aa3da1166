"""Command hooks and status lines: where each comes from, and what its command line would find. Nothing is run.

What Claude Code 2.1.332 does with a command hook (observed with a fake API on 127.0.0.1, see the report in
tests/fixtures/real-claude/plugins/README.md): it runs `/bin/sh -c <command>` in the project directory with the
PATH it was started with and CLAUDE_PROJECT_DIR set to the project; hooks from every settings file run (they are
merged, not overridden); an entry whose `timeout` is not a number above 0 is skipped ("Invalid command hook ...
entry ignored"); `claude -p` runs a project's hooks in a folder whose trust dialog was never accepted;
`disableAllHooks: true` in user settings kept a project's hook from running ("Disable all hooks and statusLine
execution: the hooks defined in settings files and by installed plugins", says the CLI's settings schema).
"""

from __future__ import annotations

import re
import shlex
import stat
from dataclasses import replace
from pathlib import Path, PurePath

from claude_preflight.env import DEFAULT_PATH, EXECUTABLE, Env, NotRegularFile
from claude_preflight.probes import plugins
from claude_preflight.probes.config import settings_documents
from claude_preflight.probes.files import read_json
from claude_preflight.records import dataclass

SOURCE_IDS = {"managed-settings": "managed", "project-local-settings": "local", "project-settings": "project",
              "user-settings": "user"}  # fmt: skip
OPERATORS = {";", "&&", "||", "|", "&", "\n"}
REDIRECTS = re.compile(r"^[0-9]*(>>?|<|>&|<&|&>>?)$")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
BUILTINS = {"cd", "echo", "printf", "true", "false", "exit", "export", "test", "[", ":", "set", "unset", "read",
            "source", ".", "eval", "trap", "wait", "return", "shift", "umask", "command", "type"}  # fmt: skip
WRAPPERS = {"exec", "env", "nohup", "time", "command"}
# How each interpreter exits when its script file is missing (measured here: python3 2, perl 2, dash 2, bash 127,
# node 1; ruby from its documentation). 2 is the hook protocol's "block".
MISSING_SCRIPT_EXIT = {"python": 2, "perl": 2, "dash": 2, "sh": 2, "bash": 127, "zsh": 127, "node": 1, "ruby": 1}
NO_SCRIPT_OPTIONS = {"-c", "-m", "-e", "-E", "-p", "--eval", "--print", "-"}
OPTIONS_WITH_VALUE = {"-W", "-X", "-r", "--require", "--import", "-I", "--loader", "--env-file"}
SUBCOMMANDS = {"uv": "run", "deno": "run", "bun": "run", "npx": None, "uvx": None}


@dataclass(frozen=True)
class HookEntry:
    """One `type: command` hook (or status line) as Claude Code would run it."""

    source: str  # managed, local, project, user, plugin:<name>
    file: Path  # the settings or hooks file
    pointer: str  # hooks.PreToolUse[0].hooks[1], statusLine
    event: str  # PreToolUse ..., or statusLine / subagentStatusLine
    command: object  # the raw "command" value
    timeout: object = None  # the raw "timeout" value (None: absent)
    plugin_root: Path | None = None
    trusted: bool | None = None  # project and local sources: the folder's trust; None for the others
    inactive: str | None = None  # why Claude Code would not run it at all
    matcher: str | None = None  # the tools a tool event's hook applies to ("" or None: all)
    plugin: str | None = None  # name@marketplace of the plugin that brings it
    args: object = None  # exec form: "args" beside "command" (no shell); None for a shell command line

    @property
    def id(self) -> str:
        return f"{self.source}:{self.pointer}"

    @property
    def label(self) -> str:
        return f"{self.file} {self.pointer}"


def _trusted(env: Env, max_bytes: int) -> bool:
    """The project (or a folder above it) has hasTrustDialogAccepted in ~/.claude.json."""
    state = read_json(env, env.user_state_file, max_bytes).data
    projects = state.get("projects") if isinstance(state, dict) else None
    if not isinstance(projects, dict):
        return False
    for folder in (env.project, *env.project.parents):
        entry = projects.get(str(folder))
        if isinstance(entry, dict) and entry.get("hasTrustDialogAccepted") is True:
            return True
    return False


def _disabled(env: Env, max_bytes: int) -> tuple[str | None, bool]:
    """(where disableAllHooks is true, managed allowManagedHooksOnly)."""
    where, managed_only = None, False
    for target, data in settings_documents(env, max_bytes):
        if where is None and isinstance(data.get("disableAllHooks"), bool):
            where = str(target.path) if data["disableAllHooks"] else ""
        if target.id == "managed-settings" and data.get("allowManagedHooksOnly") is True:
            managed_only = True
    return where or None, managed_only


def _commands(hooks: object) -> list[tuple[str, str, dict, str | None]]:
    """(event, pointer, hook, matcher) of every command hook in a hooks object; malformed parts are config.file's."""
    found = []
    for event, matchers in hooks.items() if isinstance(hooks, dict) else []:
        for i, matcher in enumerate(matchers if isinstance(matchers, list) else []):
            inner = matcher.get("hooks") if isinstance(matcher, dict) else None
            for n, hook in enumerate(inner if isinstance(inner, list) else []):
                if isinstance(hook, dict) and hook.get("type") == "command":
                    matcher_value = matcher.get("matcher")
                    matcher_text = matcher_value if isinstance(matcher_value, str) else None
                    found.append((str(event), f"hooks.{event}[{i}].hooks[{n}]", hook, matcher_text))
    return found


def hook_entries(env: Env, max_bytes: int) -> list[HookEntry]:
    """Every command hook from managed, local, project and user settings, then from each enabled plugin."""
    trusted = _trusted(env, max_bytes)
    disabled_in, managed_only = _disabled(env, max_bytes)
    found = []
    for target, data in settings_documents(env, max_bytes):
        source = SOURCE_IDS[target.id]
        inactive = None
        if source != "managed" and managed_only:
            inactive = "managed settings set allowManagedHooksOnly: only your organisation's hooks run"
        elif source != "managed" and disabled_in:
            inactive = f"disableAllHooks is true in {disabled_in}"
        trust = trusted if source in ("project", "local") else None
        for event, pointer, hook, matcher in _commands(data.get("hooks")):
            found.append(HookEntry(source, target.path, pointer, event, hook.get("command"), hook.get("timeout"),
                                   None, trust, inactive, matcher, None, hook.get("args")))  # fmt: skip
    for facts in plugins.survey(env, max_bytes):
        if not facts.plugin.enabled or not facts.loads:
            continue
        for path, hooks in facts.hooks_files:
            for event, pointer, hook, matcher in _commands(hooks):
                hook = plugins.substitute(hook, str(facts.root), str(plugins.data_dir(env, facts.plugin.id)))
                inactive = ("managed settings set allowManagedHooksOnly" if managed_only
                            else f"disableAllHooks is true in {disabled_in}" if disabled_in else None)  # fmt: skip
                found.append(HookEntry(f"plugin:{facts.plugin.name}", path, pointer, event, hook.get("command"),
                                       hook.get("timeout"), facts.root, None, inactive, matcher, facts.plugin.id,
                                       hook.get("args")))  # fmt: skip
    return found


def status_line_entries(env: Env, max_bytes: int) -> list[HookEntry]:
    """The statusLine and subagentStatusLine that win (the highest-precedence file that sets each)."""
    trusted = _trusted(env, max_bytes)
    disabled_in, _ = _disabled(env, max_bytes)
    found: dict[str, HookEntry] = {}
    for target, data in settings_documents(env, max_bytes):
        source = SOURCE_IDS[target.id]
        for key in ("statusLine", "subagentStatusLine"):
            value = data.get(key)
            if key in found or not isinstance(value, dict) or value.get("type", "command") != "command":
                continue
            inactive = (
                f"disableAllHooks is true in {disabled_in} (it turns the status line off too)" if disabled_in else None
            )
            trust = trusted if source in ("project", "local") else None
            found[key] = HookEntry(source, target.path, key, key, value.get("command"), None, None, trust, inactive)
    return list(found.values())


# -- one command line ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Part:
    """One simple command of the line, as /bin/sh would start it."""

    words: tuple[str, ...]
    program: str
    resolved: str | None  # the file that would run; "builtin" for shell builtins
    program_state: str  # found, builtin, missing, not-executable, directory
    interpreter: str | None = None  # python, node, bash, ... when the program is one
    script: str | None = None  # the script argument, as a path
    script_state: str | None = None  # found, missing, directory
    shebang: str | None = None  # the first line of a script that runs directly
    shebang_program: str | None = None
    shebang_state: str | None = None  # found, missing, carriage-return

    @property
    def exit_code(self) -> int | None:
        """What the part would exit with before doing anything: 0 when it starts; None for an unknown non-zero."""
        if self.program_state == "missing":
            return 127
        if self.program_state in ("not-executable", "directory"):
            return 126
        if self.shebang_state in ("missing", "carriage-return"):
            return 127
        if self.script_state in ("missing", "directory"):
            return MISSING_SCRIPT_EXIT.get(self.interpreter or "")
        return 0

    @property
    def broken(self) -> bool:
        return self.exit_code != 0


@dataclass(frozen=True)
class CommandFacts:
    command: str
    path: str  # the PATH the hook gets
    cwd: Path
    parts: tuple[Part, ...] = ()
    operators: tuple[str, ...] = ()  # between the parts
    unset: tuple[str, ...] = ()  # variables the command uses that have no value
    unparsed: str | None = None  # why the line could not be read statically

    @property
    def exit_code(self) -> int | None:
        """The line's exit code when nothing but the broken parts fails (None: non-zero, unknown)."""
        status: int | None = 0
        for index, part in enumerate(self.parts):
            op = self.operators[index - 1] if index else None
            if (op == "&&" and status != 0) or (op == "||" and status == 0):
                continue
            status = part.exit_code
        return status

    @property
    def broken(self) -> list[Part]:
        return [p for p in self.parts if p.broken]


def _expand(word: str, environ: dict, home: Path, unset: list[str]) -> str:
    def one(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        if name not in environ:
            unset.append(name)
        return environ.get(name, "")

    word = VARIABLE.sub(one, word)
    if word == "~" or word.startswith("~/"):
        return str(home) + word[1:]
    return word


def _kind(program: str, resolved: str | None, env: Env) -> str | None:
    name = PurePath(program).name
    if re.fullmatch(r"python[0-9.]*", name):
        return "python"
    if name == "sh" and resolved:
        real = env.real_path(Path(resolved)).name
        return real if real in MISSING_SCRIPT_EXIT else None
    if name in MISSING_SCRIPT_EXIT or name in SUBCOMMANDS or name in ("tsx", "ts-node", "php", "pwsh"):
        return name
    return None


def _script(words: list[str], kind: str) -> str | None:
    """The script file an interpreter is asked to run, or None (inline code, a module, a package)."""
    rest = words[1:]
    if kind in SUBCOMMANDS:
        sub = SUBCOMMANDS[kind]
        if sub is None or not rest or rest[0] != sub:
            return None
        rest = rest[1:]
    skip_next = False
    for word in rest:
        if skip_next:
            skip_next = False
            continue
        if word in NO_SCRIPT_OPTIONS:
            return None
        if word in OPTIONS_WITH_VALUE:
            skip_next = True
            continue
        if word.startswith("-"):
            continue
        # uv/bun/deno run a package or task by name as well as a file: only something that looks like a path counts
        if kind in SUBCOMMANDS and "/" not in word and "." not in word:
            return None
        return word
    return None


def _file_state(env: Env, path: Path) -> str:
    try:
        info = env.stat(path)
    except OSError:
        return "missing"
    return "directory" if stat.S_ISDIR(info.st_mode) else "found"


def _first_line(env: Env, path: Path) -> str | None:
    """The first line of a file, when it starts with #! (256 bytes at most; nothing else is read)."""
    try:
        with env.open_regular(path) as handle:
            head = handle.read(256)
    except (OSError, NotRegularFile):
        return None
    if not head.startswith(b"#!"):
        return None
    return head.split(b"\n", 1)[0].decode("utf-8", "replace")


def _shebang(env: Env, line: str) -> tuple[str, str]:
    """(program, state) of a #! line: state found, missing or carriage-return (a file saved with CRLF)."""
    if line.endswith("\r"):
        return line[2:].strip(), "carriage-return"
    words = line[2:].split()
    if not words:
        return "", "missing"
    if PurePath(words[0]).name == "env":
        rest = [w for w in words[1:] if not w.startswith("-") and not ASSIGNMENT.match(w)]
        if not rest:
            return words[0], "found"
        found = env.which(rest[0])
        return rest[0], "found" if found else "missing"
    target = words[0]
    ok = _file_state(env, Path(target)) == "found" and env.access(Path(target), EXECUTABLE)
    return target, "found" if ok else "missing"


def _resolve(env: Env, program: str, cwd: Path) -> tuple[str | None, str]:
    if "/" not in program:
        if program in BUILTINS:
            return "builtin", "builtin"
        found = env.which(program)
        return (found, "found") if found else (None, "missing")
    path = cwd / program
    state = _file_state(env, path)
    if state == "found" and not env.access(path, EXECUTABLE):
        return str(path), "not-executable"
    return (str(path), state) if state != "missing" else (None, "missing")


def _part(env: Env, words: list[str], cwd: Path) -> Part:
    program = words[0]
    resolved, state = _resolve(env, program, cwd)
    if state != "found":
        return Part(tuple(words), program, resolved, state)
    kind = _kind(program, resolved, env)
    if kind:
        script = _script(words, kind)
        if script is None:
            return Part(tuple(words), program, resolved, state, kind)
        script_path = cwd / script
        return Part(tuple(words), program, resolved, state, kind, str(script_path), _file_state(env, script_path))
    line = _first_line(env, Path(resolved))
    if line is None:
        return Part(tuple(words), program, resolved, state)
    shebang_program, shebang_state = _shebang(env, line)
    return Part(tuple(words), program, resolved, state, None, None, None, line, shebang_program, shebang_state)


def read_command(env: Env, entry: HookEntry) -> CommandFacts:
    """What /bin/sh would find when it starts this command line, without starting anything."""
    environ = {**env.environ, "CLAUDE_PROJECT_DIR": str(env.project)}
    if entry.plugin_root:
        environ["CLAUDE_PLUGIN_ROOT"] = str(entry.plugin_root)
    if entry.plugin:
        environ["CLAUDE_PLUGIN_DATA"] = str(plugins.data_dir(env, entry.plugin))
    path_value = environ.get("PATH", DEFAULT_PATH)
    command = str(entry.command)
    facts = CommandFacts(command, path_value, env.project)
    if entry.args is not None:
        # Exec form: no shell, so no $VAR, ~ or quoting (2.1.332 passed "$CLAUDE_PROJECT_DIR/x.py" to python3 as is).
        if not isinstance(entry.args, list) or not all(isinstance(a, str) for a in entry.args):
            return replace(facts, unparsed='"args" is not a list of strings')
        words = [command, *entry.args]
        return replace(facts, command=shlex.join(words), parts=(_part(env, words, env.project),))
    if "$(" in command or "`" in command or "<<" in command:
        return replace(facts, unparsed="it uses command substitution or a here-document")
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|<>")
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError as exc:
        return replace(facts, unparsed=f"the shell cannot parse it: {exc}")
    simple: list[list[str]] = [[]]
    operators: list[str] = []
    skip = False
    for token in tokens:
        if token in OPERATORS:
            operators.append(token)
            simple.append([])
        elif skip:
            skip = False
        elif REDIRECTS.match(token):
            skip = True
        else:
            simple[-1].append(token)
    unset: list[str] = []
    parts: list[Part] = []
    kept_ops: list[str] = []
    cwd = env.project
    for index, words in enumerate(simple):
        words = [_expand(w, environ, env.home, unset) for w in words]
        while words and (ASSIGNMENT.match(words[0]) or words[0] in WRAPPERS):
            words = words[1:]
        if not words:
            continue
        if words[0] == "cd" and len(words) > 1:
            cwd = cwd / words[1]
        if parts:
            kept_ops.append(operators[index - 1] if index else ";")
        parts.append(_part(env, words, cwd))
    return CommandFacts(command, path_value, env.project, tuple(parts), tuple(kept_ops), tuple(dict.fromkeys(unset)))


def hook_targets(env: Env, policy) -> list[HookEntry]:
    return hook_entries(env, policy.config_max_bytes)


def status_line_targets(env: Env, policy) -> list[HookEntry]:
    return status_line_entries(env, policy.config_max_bytes)
