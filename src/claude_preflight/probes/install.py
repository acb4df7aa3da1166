"""Which Claude Code installations exist, which one runs, and the runtime around it (Node, ripgrep, shell
snapshots, OS limits, CPU, terminal)."""

from __future__ import annotations

import json
import re
import stat
from importlib import resources
from pathlib import Path, PurePath

from claude_preflight.env import EXECUTABLE, WRITABLE, Env
from claude_preflight.probes import once_per_run
from claude_preflight.probes.files import read_json
from claude_preflight.records import dataclass

VERSION = re.compile(r"(\d+\.\d+\.\d+)")
NATIVE_SINCE = (2, 1, 113)  # from this release the npm package ships a native (Bun) binary, not cli.js


def is_native(version: str) -> bool:
    return tuple(int(n) for n in re.findall(r"\d+", version)[:3]) >= NATIVE_SINCE


@dataclass(frozen=True)
class Installation:
    path: str  # as found (on PATH or a known place)
    real: str  # with links resolved: two entries with the same real path are one installation
    method: str  # npm-global, npm-local, native, homebrew, unknown
    version: str | None
    runs: bool  # the first `claude` on PATH: the one a shell starts
    executable: bool
    # why --version gave no version, as (code, figure): ("not-executable", ""), ("cannot-run", OS error),
    # ("killed", signal number), ("timed-out", seconds), ("no-version", exit code); None when it answered
    problem: tuple[str, str] | None = None
    package_dir: str | None = None  # npm: the @anthropic-ai/claude-code package
    on_path: bool = True

    @property
    def sigkilled(self) -> bool:
        return self.problem == ("killed", "9")


def _names(env: Env) -> tuple[str, ...]:
    """What `claude` is called on disk: on Windows the native claude.exe, npm's claude.cmd shim (PATHEXT order)."""
    return ("claude.exe", "claude.cmd") if env.platform == "win32" else ("claude",)


def _method(env: Env, real: str, path: str) -> str:
    real, path = real.replace("\\", "/"), path.replace("\\", "/")  # Windows paths, compared as POSIX ones
    if path.lower().endswith("/npm/claude.cmd"):  # npm's shim in %APPDATA%\npm (Windows' global prefix)
        return "npm-global"
    if "/node_modules/@anthropic-ai/claude-code" in real or "/node_modules/.bin/" in path:
        prefix = _npm_prefix(env)
        if prefix and real.startswith(str(Path(prefix) / "lib" / "node_modules")):
            return "npm-global"
        return "npm-global" if "/lib/node_modules/" in real else "npm-local"
    native = {(env.home / ".local" / "bin" / name).as_posix() for name in _names(env)}
    if "/.local/share/claude/versions/" in real or path in native:
        return "native"
    if "/Cellar/" in real or "/Caskroom/" in real or "linuxbrew" in real or real.startswith("/opt/homebrew"):
        return "homebrew"
    return "unknown"


def _npmrc_prefix(env: Env, path: Path) -> str | None:
    try:
        text = env.read_text(path, 1 << 20)
    except OSError:
        return None
    match = re.search(r"^\s*prefix\s*=\s*(.+?)\s*$", text, re.M)
    if not match:
        return None
    value = match.group(1).strip("\"'").replace("${HOME}", str(env.home)).replace("$HOME", str(env.home))
    return str(env.expand(value))


def _npm_prefix(env: Env) -> str | None:
    """npm's global prefix as npm works it out, without starting npm (a Node start costs ~250 ms): the
    environment, then ~/.npmrc, then the global npmrc, then the directory above node's bin/."""
    for name in ("NPM_CONFIG_PREFIX", "npm_config_prefix"):
        if env.environ.get(name):
            return env.environ[name]
    user = _npmrc_prefix(env, Path(env.environ.get("NPM_CONFIG_USERCONFIG") or env.home / ".npmrc"))
    if user:
        return user
    node = env.which("node")
    if not node:
        return None
    default = env.real_path(Path(node)).parent.parent
    return _npmrc_prefix(env, default / "etc" / "npmrc") or str(default)


def npm_prefix(env: Env) -> str | None:
    return _npm_prefix(env)


def _package_dir(real: str) -> str | None:
    marker = "/node_modules/@anthropic-ai/claude-code"
    real = real.replace("\\", "/")  # a Windows path
    return real[: real.index(marker) + len(marker)] if marker in real else None


def _version(env: Env, path: str, package_dir: str | None, timeout: float) -> tuple[str | None, tuple[str, str] | None]:
    try:
        run = env.run([path, "--version"], timeout=timeout)
    except OSError as exc:
        return None, ("cannot-run", str(exc.strerror or exc))
    if run.returncode is not None and run.returncode < 0:  # killed by a signal (SIGKILL: the shell's exit 137)
        return _package_version(env, package_dir), ("killed", str(-run.returncode))
    if run.timed_out:
        return _package_version(env, package_dir), ("timed-out", f"{timeout:g}")
    match = VERSION.search(run.stdout)
    if match:
        return match.group(1), None
    return _package_version(env, package_dir), ("no-version", str(run.returncode))


def _package_version(env: Env, package_dir: str | None) -> str | None:
    if not package_dir:
        return None
    data = read_json(env, Path(package_dir) / "package.json", 1 << 20).data
    return data.get("version") if isinstance(data, dict) else None


def installations(env: Env, timeout: float) -> list[Installation]:
    """Every `claude` on PATH in order, then the known places (scanned once per run: each runs --version)."""
    return once_per_run("installations", env, timeout, lambda: _scan(env, timeout))


def _scan(env: Env, timeout: float) -> list[Installation]:
    candidates: list[tuple[str, bool]] = []
    names = _names(env)
    for directory in env.path_dirs():
        if directory:
            candidates += [(str(Path(directory) / name), True) for name in names]
    prefix = _npm_prefix(env)
    known = [env.home / ".local" / "bin" / name for name in names] + [
        env.sys_path(p)
        for p in ("/opt/homebrew/bin/claude", "/usr/local/bin/claude", "/home/linuxbrew/.linuxbrew/bin/claude")
    ]
    if prefix:
        known.append(Path(prefix) / "bin" / "claude")
    if env.platform == "win32" and env.environ.get("APPDATA"):  # npm's global prefix on Windows: no bin/
        known.append(Path(env.environ["APPDATA"]) / "npm" / "claude.cmd")
    versions = env.home / ".local" / "share" / "claude" / "versions"
    known += sorted((p for p, _ in env.entries(versions)), key=lambda p: p.name)
    candidates += [(str(p), False) for p in known]
    found, seen, first = [], set(), True
    for path, on_path in candidates:
        if not env.is_file(Path(path)) or path in seen:
            continue
        seen.add(path)
        real = str(env.real_path(Path(path)))
        executable = env.access(Path(path), EXECUTABLE)
        package_dir = _package_dir(real)
        if executable:
            version, problem = _version(env, path, package_dir, timeout)
        else:
            version, problem = _package_version(env, package_dir), ("not-executable", "")
        runs = on_path and executable and first
        if runs:
            first = False
        found.append(
            Installation(path, real, _method(env, real, path), version, runs, executable, problem, package_dir, on_path)
        )
    return found


def running(env: Env, timeout: float) -> Installation | None:
    """The installation a shell starts (the first executable `claude` on PATH), from the once-per-run scan."""
    return next((i for i in installations(env, timeout) if i.runs), None)


def running_version(env: Env, timeout: float) -> str | None:
    found = running(env, timeout)
    return found.version if found else None


# -- known-bad versions ------------------------------------------------------------------------
@dataclass(frozen=True)
class BadVersion:
    versions: str
    symptom: str
    issue: str
    install: str


def known_bad() -> list[BadVersion]:
    text = resources.files("claude_preflight").joinpath("data/known-bad-versions.json").read_text()
    return [BadVersion(**entry) for entry in json.loads(text)["entries"]]


# -- Node ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NodeFacts:
    needed_by: tuple[str, ...]  # why Node matters here (JS build, npx MCP servers); empty: it does not
    node: str | None  # path
    version: str | None
    npm: str | None
    windows_side: bool  # node or npm resolves under /mnt/<drive>: the Windows install, seen from WSL
    engines: str | None  # the installed package's engines.node
    engines_from: str | None


def node_facts(env: Env, running: Installation | None, mcp_commands: list[str], timeout: float) -> NodeFacts:
    needed = []
    if running and running.version and not is_native(running.version):
        needed.append(f"Claude Code {running.version} is the JavaScript build: it runs on Node")
    node_servers = sorted({c for c in mcp_commands if PurePath(c).name in ("npx", "node", "npm")})
    if node_servers:
        needed.append(f"MCP servers are started with {', '.join(node_servers)}")
    node = env.which("node")
    version = None
    if node and needed:  # nothing here runs on Node: its version is not asked (a process start saved)
        try:
            run = env.run([node, "--version"], timeout=timeout)
            version = run.stdout.strip().lstrip("v") or None
        except OSError:
            version = None
    engines, source = None, None
    if running and running.package_dir:
        data = read_json(env, Path(running.package_dir) / "package.json", 1 << 20).data
        if isinstance(data, dict) and isinstance(data.get("engines"), dict):
            engines, source = data["engines"].get("node"), str(Path(running.package_dir) / "package.json")
    npm = env.which("npm")
    mnt = str(env.sys_path("/mnt")) + "/"
    windows = any(p and str(env.real_path(Path(p))).startswith(mnt) for p in (node, npm))
    return NodeFacts(tuple(needed), node, version, npm, windows, engines, source)


def satisfies(version: str, spec: str) -> bool:
    """npm-style range check for the forms engines use: >=, >, <=, <, =, ^, ~, x, spaces (and) and || (or)."""

    def parts(v: str) -> tuple[int, ...]:
        return tuple(int(n) for n in (re.findall(r"\d+", v) + ["0", "0", "0"])[:3])

    have = parts(version)
    for alternative in spec.split("||"):
        ok = True
        for clause in alternative.split():
            match = re.match(r"(>=|<=|>|<|=|\^|~)?v?([\dx*.]+)", clause)
            if not match:
                continue
            op, target = match.group(1) or "=", match.group(2).replace("*", "x")
            want = parts(target.replace("x", "0"))
            if op == "^":
                ok &= have >= want and have[0] == want[0]
            elif op == "~":
                ok &= have >= want and have[:2] == want[:2]
            elif op == ">=":
                ok &= have >= want
            elif op == ">":
                ok &= have > want
            elif op == "<=":
                ok &= have <= want
            elif op == "<":
                ok &= have < want
            else:
                fixed = [n for n in target.split(".") if n not in ("x", "")]
                ok &= have[: len(fixed)] == tuple(int(n) for n in fixed)
        if ok:
            return True
    return False


# -- npm auto-update, ripgrep, shell snapshots ---------------------------------------------------------
@dataclass(frozen=True)
class AutoUpdate:
    prefix: str | None
    prefix_writable: bool
    disabled_by: str | None  # DISABLE_AUTOUPDATER=1, autoUpdates: false, ...


def auto_update(env: Env, max_bytes: int) -> AutoUpdate:
    prefix = _npm_prefix(env)
    target = Path(prefix) / "lib" / "node_modules" if prefix else None
    writable = bool(target and env.exists(target) and env.access(target, WRITABLE))
    disabled = None
    if env.environ.get("DISABLE_AUTOUPDATER") not in (None, "", "0"):
        disabled = f"DISABLE_AUTOUPDATER={env.environ['DISABLE_AUTOUPDATER']}"
    state = read_json(env, env.user_state_file, max_bytes).data
    if disabled is None and isinstance(state, dict) and state.get("autoUpdates") is False:
        disabled = f"autoUpdates: false in {env.user_state_file}"
    return AutoUpdate(prefix, writable, disabled)


@dataclass(frozen=True)
class Ripgrep:
    installed: bool  # a Claude Code installation runs at all
    bundled: bool  # Claude Code brings its own (native build, or vendor/ripgrep in the npm package)
    use_builtin: str | None  # USE_BUILTIN_RIPGREP as set
    system: str | None  # rg on PATH
    system_version: str | None
    system_error: str | None
    config_path: str | None  # RIPGREP_CONFIG_PATH


def ripgrep(env: Env, running: Installation | None, timeout: float) -> Ripgrep:
    bundled = False
    if running:
        native = running.method == "native" or (running.version and is_native(running.version))
        vendor = running.package_dir and env.exists(Path(running.package_dir) / "vendor" / "ripgrep")
        bundled = bool(native or vendor)
    rg, version, error = env.which("rg"), None, None
    if rg:
        try:
            run = env.run([rg, "--version"], timeout=timeout)
            if run.timed_out:
                error = f"no answer within {timeout:g} s"
            elif run.returncode != 0:
                error = run.error_line
            else:
                version = run.stdout.split("\n")[0].strip()
        except OSError as exc:
            error = str(exc)
    return Ripgrep(
        running is not None,
        bundled,
        env.environ.get("USE_BUILTIN_RIPGREP"),
        rg,
        version,
        error,
        env.environ.get("RIPGREP_CONFIG_PATH"),
    )


@dataclass(frozen=True)
class Snapshot:
    path: Path
    shell: str  # bash or zsh
    checker: str | None  # the shell that parsed it; None: not installed
    error: str | None  # the parse error, with its line


def shell_snapshots(env: Env, newest: int, timeout: float) -> list[Snapshot]:
    files = [(p, info) for p, info in env.entries(env.config_dir / "shell-snapshots") if stat.S_ISREG(info.st_mode)]
    files = sorted(files, key=lambda item: item[1].st_mtime, reverse=True)[:newest]
    found = []
    for path, _ in files:
        shell = "zsh" if "zsh" in path.name else "bash"
        checker = env.which(shell)
        if not checker:
            found.append(Snapshot(path, shell, None, None))
            continue
        run = env.run([checker, "-n", str(path)], timeout=timeout)
        error = None
        if run.timed_out:
            error = f"{shell} -n did not finish within {timeout:g} s"
        elif run.returncode != 0:
            error = run.error_line
        found.append(Snapshot(path, shell, checker, error))
    return found


# -- OS limits, CPU, terminal ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Limits:
    max_user_watches: int | None
    max_user_instances: int | None
    nofile_soft: int | None
    nofile_hard: int | None
    container: bool = False  # inotify sysctls here are the host kernel's and cannot be raised from inside


def _in_container(env: Env) -> bool:
    if any(env.exists(env.sys_path(marker)) for marker in ("/.dockerenv", "/run/.containerenv")):
        return True
    try:
        cgroup = env.read_text(env.sys_path("/proc/1/cgroup"), 1 << 16)
    except OSError:
        return False
    return any(word in cgroup for word in ("docker", "kubepods", "containerd", "/lxc/", "libpod"))


def _int_file(env: Env, path: str) -> int | None:
    try:
        return int(env.read_text(env.sys_path(path)).strip())
    except (OSError, ValueError):
        return None


def limits(env: Env) -> Limits:
    soft, hard = env.nofile_limit()
    return Limits(_int_file(env, "/proc/sys/fs/inotify/max_user_watches"),
                  _int_file(env, "/proc/sys/fs/inotify/max_user_instances"), soft, hard, _in_container(env))  # fmt: skip


@dataclass(frozen=True)
class Cpu:
    machine: str
    flags: frozenset[str] | None  # None: /proc/cpuinfo not readable
    model: str | None


def cpu(env: Env) -> Cpu:
    try:
        text = env.read_text(env.sys_path("/proc/cpuinfo"), 8 << 20)
    except OSError:
        return Cpu(env.machine(), None, None)
    flags = re.search(r"^flags\s*:\s*(.*)$", text, re.M)
    model = re.search(r"^model name\s*:\s*(.*)$", text, re.M)
    machine = "x86_64" if flags and " sse2" in f" {flags.group(1)}" else env.machine()
    return Cpu(machine, frozenset(flags.group(1).split()) if flags else None, model.group(1).strip() if model else None)


@dataclass(frozen=True)
class Terminal:
    stdin_tty: bool
    term: str | None
    ci: bool


def terminal(env: Env) -> Terminal:
    return Terminal(env.stdin_is_tty(), env.environ.get("TERM"), bool(env.environ.get("CI")))
