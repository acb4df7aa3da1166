"""MCP servers: where Claude Code finds them, whether each would start, and what its tools cost in context.

A stdio handshake is about 60 lines of standard library (initialize, notifications/initialized, tools/list over
newline-delimited JSON-RPC), much cheaper and clearer than importing the `mcp` package. Every server starts in a new
process group, and every group is killed afterwards, also when the run is interrupted (`stop_all`).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import queue
import re
import threading
import time
from pathlib import Path

from claude_preflight import __version__
from claude_preflight.env import DEFAULT_PATH, Cancelled, Env, stopping
from claude_preflight.probes import once_per_run
from claude_preflight.probes.config import settings_documents
from claude_preflight.probes.files import loads, read_json
from claude_preflight.probes.trust import workspace_trust
from claude_preflight.records import dataclass, field
from claude_preflight.values import whole_number

PROTOCOL_VERSION = "2025-06-18"
MAX_HANDSHAKE_S = 600.0  # however large MCP_TIMEOUT is, one handshake is never waited on longer
SCOPE_ORDER = ("managed", "local", "project", "user")  # who wins when two scopes define the same name


class Approval(str, enum.Enum):
    """Why Claude Code would (or would not) start a server."""

    MANAGED = "managed"  # managed-mcp.json: your organisation's
    LOCAL = "local"  # ~/.claude.json projects[<project>].mcpServers: yours, for this project
    USER = "user"  # ~/.claude.json mcpServers: yours, in every project
    PLUGIN = "plugin"  # an enabled plugin's
    DISABLED = "disabled"  # disabledMcpjsonServers
    UNTRUSTED = "untrusted"  # approved by the project's own files, in a workspace the user never trusted
    ENABLED = "enabled"  # enabledMcpjsonServers
    ENABLE_ALL = "enable-all"  # enableAllProjectMcpServers
    PENDING = "pending"  # nobody approved it: Claude Code asks first

    @property
    def starts(self) -> bool:
        return self not in (Approval.DISABLED, Approval.UNTRUSTED, Approval.PENDING)


@dataclass(frozen=True)
class Server:
    scope: str  # user, local, project, managed
    name: str
    config: dict
    source: Path
    approval: Approval  # whether and why Claude Code would start it
    approved_where: str = ""  # the file (or workspace, when untrusted) the approval decision comes from
    shadowed_by: str | None = None  # "local:github" when another scope's server of that name wins

    @property
    def approved(self) -> bool:
        return self.approval.starts

    @property
    def id(self) -> str:
        return f"{self.scope}:{self.name}"

    @property
    def label(self) -> str:
        return self.id

    @property
    def transport(self) -> str:
        return str(
            self.config.get("type") or ("http" if "url" in self.config and "command" not in self.config else "stdio")
        )


def _servers_in(data, key: str = "mcpServers") -> dict:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _approval(env: Env, project_entry, max_bytes: int) -> tuple[set[str], set[str], bool, list[str]]:
    """Project-server approvals from the settings files and ~/.claude.json's entry for this project."""
    enabled, disabled, enable_all, where = set(), set(), False, []
    sources = [(str(target.path), data) for target, data in settings_documents(env, max_bytes)]
    if isinstance(project_entry, dict):
        sources.append((f"{env.user_state_file} projects[{env.project}]", project_entry))
    for path, data in sources:
        if isinstance(data.get("enabledMcpjsonServers"), list):
            enabled |= {str(n) for n in data["enabledMcpjsonServers"]}
        if isinstance(data.get("disabledMcpjsonServers"), list):
            disabled |= {str(n) for n in data["disabledMcpjsonServers"]}
        if data.get("enableAllProjectMcpServers") is True:
            enable_all = True
            where.append(path)
    return enabled, disabled, enable_all, where


def discover(env: Env, max_bytes: int) -> list[Server]:
    """Every configured server, in every scope Claude Code reads, with which one wins a name clash.

    A project's own servers (.mcp.json) count as approved only in a trusted workspace: a cloned repository
    cannot approve its own servers, whatever its settings files say.
    """
    state = read_json(env, env.user_state_file, max_bytes).data
    state = state if isinstance(state, dict) else {}
    projects = state.get("projects") if isinstance(state.get("projects"), dict) else {}
    project_entry = projects.get(env.state_key(env.project))
    found: list[Server] = []
    managed_path = env.managed_dir / "managed-mcp.json"
    for name, config in _servers_in(read_json(env, managed_path, max_bytes).data).items():
        found.append(Server("managed", name, config, managed_path, Approval.MANAGED))
    for name, config in _servers_in(project_entry).items():
        found.append(Server("local", name, config, env.user_state_file, Approval.LOCAL))
    enabled, disabled, enable_all, where = _approval(env, project_entry, max_bytes)
    trust = workspace_trust(env, max_bytes)
    mcp_json = env.project / ".mcp.json"
    for name, config in _servers_in(read_json(env, mcp_json, max_bytes).data).items():
        if name in disabled:
            approval, at = Approval.DISABLED, ""
        elif (name in enabled or enable_all) and not trust.trusted:
            approval, at = Approval.UNTRUSTED, str(trust.workspace)
        elif name in enabled:
            approval, at = Approval.ENABLED, ""
        elif enable_all:
            approval, at = Approval.ENABLE_ALL, where[0]
        else:
            approval, at = Approval.PENDING, ""
        found.append(Server("project", name, config, mcp_json, approval, at))
    for name, config in _servers_in(state).items():
        found.append(Server("user", name, config, env.user_state_file, Approval.USER))
    winners: dict[str, Server] = {}
    for scope in SCOPE_ORDER:
        for server in found:
            if server.scope == scope and server.name not in winners:
                winners[server.name] = server
    return [
        s if winners[s.name] is s else dataclasses.replace(s, shadowed_by=winners[s.name].id) for s in found
    ] + plugin_servers(env, max_bytes)


def plugin_servers(env: Env, max_bytes: int) -> list[Server]:
    """Servers of enabled plugins that load, scoped "plugin:<name>" (Claude Code names them plugin:<name>:<server>,
    so they never clash with another scope's)."""
    from claude_preflight.probes import plugins

    return [
        Server(f"plugin:{f.plugin.name}", name, config, f.mcp_source, Approval.PLUGIN, f.plugin.id)
        for f in plugins.survey(env, max_bytes)
        if f.plugin.enabled and f.loads
        for name, config in f.mcp_servers.items()
    ]


# -- shape and ${VAR} references ------------------------------------------------------------------
VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand(value: str, environ) -> tuple[str, list[str]]:
    """Expand ${VAR} and ${VAR:-default} as Claude Code does; return the text and the unset names."""
    missing: list[str] = []

    def one(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        missing.append(name)
        return ""

    return VAR.sub(one, value), missing


@dataclass(frozen=True)
class Problem:
    """One thing malformed in a server entry: a code, the field it concerns, and what was found there."""

    code: str  # not-an-object, bad-type, missing-command, missing-url, not-a-list, not-an-object-of-strings,
    #            not-a-string, bad-url
    field: str = ""  # '"args"', '"env".TOKEN', ...
    found: str = ""  # the JSON type or value found


@dataclass(frozen=True)
class Shape:
    problems: tuple[Problem, ...]  # what is malformed (Claude Code skips or fails the server)
    missing_vars: tuple[str, ...]  # ${VAR} references with no value and no default
    argv: tuple[str, ...] = ()  # stdio: command and args, expanded
    env: dict = field(default_factory=dict)  # stdio: the server's env, expanded (values are secrets)
    url: str | None = None
    headers: dict = field(default_factory=dict)  # values are secrets


def as_javascript_string(text: str) -> str:
    """A lone surrogate (possible in JSON) becomes U+FFFD, as Node does when it passes a string to a process."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _kind(value) -> str:
    return type(value).__name__


def shape(server: Server, environ) -> Shape:
    c, problems, missing = server.config, [], []
    if not isinstance(c, dict):
        return Shape((Problem("not-an-object", found=_kind(c)),), ())

    def exp(value, where: str) -> str:
        if not isinstance(value, str):
            problems.append(Problem("not-a-string", where, _kind(value)))
            return ""
        text, unset = expand(value, environ)
        missing.extend(unset)
        return as_javascript_string(text)

    kind = server.transport
    if kind not in ("stdio", "http", "sse"):
        return Shape((Problem("bad-type", '"type"', kind),), ())
    if kind == "stdio":
        if "command" not in c:
            problems.append(Problem("missing-command", '"command"'))
        args = c.get("args", [])
        if not isinstance(args, list):
            problems.append(Problem("not-a-list", '"args"', _kind(args)))
            args = []
        env_map = c.get("env", {})
        if not isinstance(env_map, dict):
            problems.append(Problem("not-an-object-of-strings", '"env"', _kind(env_map)))
            env_map = {}
        argv = [exp(c.get("command", ""), '"command"')] + [exp(a, f'"args"[{i}]') for i, a in enumerate(args)]
        expanded_env = {k: exp(v, f'"env".{k}') for k, v in env_map.items()}
        return Shape(tuple(problems), tuple(dict.fromkeys(missing)), tuple(argv), expanded_env)
    if "url" not in c:
        problems.append(Problem("missing-url", '"url"', kind))
    headers = c.get("headers", {})
    if not isinstance(headers, dict):
        problems.append(Problem("not-an-object-of-strings", '"headers"', _kind(headers)))
        headers = {}
    url = exp(c.get("url", ""), '"url"')
    expanded_headers = {k: exp(v, f'"headers".{k}') for k, v in headers.items()}
    if url and not url.startswith(("http://", "https://")):
        problems.append(Problem("bad-url", '"url"', url))
    return Shape(tuple(problems), tuple(dict.fromkeys(missing)), url=url, headers=expanded_headers)


def resolve(env: Env, command: str, path_value: str) -> str | None:
    """Where the command would be found on the PATH the server gets (or itself, when it is a path)."""
    if "\0" in command:
        return None
    if "/" in command:
        return command if env.is_executable_file(Path(command)) else None
    return env.which(command, path_value)


# -- running servers -----------------------------------------------------------------------------------
@dataclass
class Handshake:
    started: bool = False
    seconds: float = 0.0
    server_info: dict = field(default_factory=dict)
    protocol: str | None = None
    tools: list = field(default_factory=list)
    failure: str | None = None  # exited, timed out, error, stdout, spawn, http; budget, cancelled: never had a turn
    detail: str = ""
    stderr_tail: list[str] = field(default_factory=list)
    status: int | None = None  # http
    exit_code: int | None = None  # exited
    tools_listed: bool = False  # http: tools/list answered (stdio: the handshake always lists them)
    waited_s: float | None = None  # timed out: how long it was given
    phase: str | None = None  # http: the phase that failed

    @property
    def tool_chars(self) -> int:
        return sum(len(json.dumps(tool, separators=(",", ":"))) for tool in self.tools)


def _reader(stream, lines: queue.Queue, tail: list[str] | None, limit: int = 16 << 20) -> None:
    for raw in iter(lambda: stream.readline(limit), b""):
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        if tail is not None:
            tail.append(text)
            del tail[:-20]
        else:
            lines.put(text)
    lines.put(None) if tail is None else None


def stdio_handshake(env: Env, argv: list[str], environ: dict, cwd: Path, timeout: float) -> Handshake:
    result = Handshake()
    start = time.monotonic()
    try:
        proc = env.start_piped(argv, environ, cwd if cwd.is_dir() else None)
    except Cancelled:
        result.failure = "cancelled"
        return result
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte; UnicodeEncodeError: a lone surrogate
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        result.failure, result.detail = "spawn", f"{reason}: {argv[0]}"
        return result
    result.started = True
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, lines, None), daemon=True).start()
    threading.Thread(target=_reader, args=(proc.stderr, lines, result.stderr_tail), daemon=True).start()
    deadline = start + timeout

    def send(message: dict) -> None:
        proc.stdin.write((json.dumps(message) + "\n").encode())
        proc.stdin.flush()

    def answer(request_id: int) -> dict | None:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                result.failure, result.waited_s = "timed out", timeout
                return None
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                code = env.wait(proc, max(0.0, min(1.0, deadline - time.monotonic())))
                if code is None:  # closed its stdout but keeps running
                    result.failure = "closed"
                    return None
                result.failure, result.exit_code = "exited", code
                return None
            if not line.strip():
                continue
            try:
                message = loads(line)
            except ValueError:
                result.failure, result.detail = "stdout", line[:200]
                return None
            if isinstance(message, dict) and message.get("id") == request_id:
                if "error" in message:
                    result.failure, result.detail = "error", json.dumps(message["error"])[:300]
                    return None
                return message.get("result") or {}

    try:
        send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": PROTOCOL_VERSION, "capabilities": {},
            "clientInfo": {"name": "claude-preflight", "version": __version__}}})  # fmt: skip
        init = answer(1)
        if init is not None:
            result.server_info = init.get("serverInfo") or {}
            result.protocol = init.get("protocolVersion")
            send({"jsonrpc": "2.0", "method": "notifications/initialized"})
            cursor, request_id = None, 2
            while request_id < 12:  # at most 10 pages of tools
                send(
                    {
                        "jsonrpc": "2.0",
                        "id": request_id,
                        "method": "tools/list",
                        "params": {"cursor": cursor} if cursor else {},
                    }
                )
                page = answer(request_id)
                if page is None:
                    break
                result.tools.extend(page.get("tools") or [])
                cursor, request_id = page.get("nextCursor"), request_id + 1
                if not cursor:
                    break
    except (BrokenPipeError, OSError) as exc:
        if not result.failure:
            code = proc.poll()
            result.failure, result.exit_code = ("exited", code) if code is not None else ("error", None)
            result.detail = "" if code is not None else str(exc)
    finally:
        result.seconds = time.monotonic() - start
        env.release(proc)
        time.sleep(0.02)  # let the stderr reader collect the last lines
    return result


def http_handshake(
    env: Env, url: str, headers: dict, transport: str, timeout: float, extra_ca: str | None
) -> Handshake:
    """SSE: the event stream opens. Streamable HTTP: initialize, notifications/initialized and tools/list, each a
    POST carrying the session id the server gave (mcp-session-id), all within `timeout` in total."""
    result = Handshake(started=True)
    start = time.monotonic()
    deadline = start + timeout
    if transport == "sse":
        x = env.exchange(url, timeout=timeout, deadline_s=timeout, headers={**headers, "accept": "text/event-stream"},
                          extra_ca=extra_ca, read_body=False)  # fmt: skip
        _http_outcome(result, x, start)
        return result
    session: dict[str, str] = {}

    def post(message: dict) -> tuple[object, dict | None]:
        left = max(0.1, deadline - time.monotonic())
        sent = {
            **headers,
            **session,
            "content-type": "application/json",
            "accept": "application/json, text/event-stream",
        }
        x = env.exchange(url, timeout=left, deadline_s=left, method="POST", body=json.dumps(message).encode(),
                         extra_ca=extra_ca, headers=sent, first_data=True)  # fmt: skip
        try:
            answer = loads(x.body) if x.ok and x.body else None
        except ValueError:
            answer = None
        return x, answer if isinstance(answer, dict) else None

    x, init = post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": PROTOCOL_VERSION, "capabilities": {},
        "clientInfo": {"name": "claude-preflight", "version": __version__}}})  # fmt: skip
    _http_outcome(result, x, start)
    if result.failure or init is None:
        return result  # an answer without a JSON-RPC body: the server answered, its tools stay unknown
    if "error" in init:
        result.failure, result.detail = "error", json.dumps(init["error"])[:300]
        return result
    info = init.get("result") if isinstance(init.get("result"), dict) else {}
    result.server_info = info.get("serverInfo") or {}
    result.protocol = info.get("protocolVersion") or result.protocol
    if x.headers.get("mcp-session-id"):
        session["mcp-session-id"] = x.headers["mcp-session-id"]
    session["mcp-protocol-version"] = str(result.protocol or PROTOCOL_VERSION)
    post({"jsonrpc": "2.0", "method": "notifications/initialized"})
    cursor, request_id = None, 2
    while request_id < 12 and time.monotonic() < deadline:  # at most 10 pages of tools
        params = {"cursor": cursor} if cursor else {}
        _, page = post({"jsonrpc": "2.0", "id": request_id, "method": "tools/list", "params": params})
        page = page.get("result") if page and isinstance(page.get("result"), dict) else None
        if page is None:
            break
        result.tools.extend(page.get("tools") or [])
        result.tools_listed = True
        cursor, request_id = page.get("nextCursor"), request_id + 1
        if not cursor:
            break
    result.seconds = time.monotonic() - start
    return result


def _http_outcome(result: Handshake, x, start: float) -> None:
    result.seconds = time.monotonic() - start
    result.status = x.status
    if not x.ok:
        result.failure, result.phase, result.detail = "http", x.error_phase, x.error or ""
    elif x.status >= 400:
        result.failure, result.detail = "http", f"HTTP {x.status}"
    else:
        result.protocol = x.headers.get("mcp-protocol-version")
        result.detail = f"HTTP {x.status} {x.headers.get('content-type', '')}".strip()


@dataclass
class McpFacts:
    server: Server
    shape: Shape
    resolved: str | None = None  # stdio: the executable found
    path: str = ""
    handshake: Handshake | None = None
    not_started: str | None = None  # why it was not started: shadowed, broken, no-start, not-approved


def survey(env: Env, policy) -> dict[str, McpFacts]:
    """Static facts for every server, and all handshakes run at once: ten servers cost the slowest one."""
    return once_per_run("mcp", env, policy, lambda: _run_survey(env, policy))


def timeout_s(env: Env, policy) -> float:
    """MCP_TIMEOUT (ms) as Claude Code reads it; our own default where it is not a usable whole number."""
    value = whole_number(env.environ.get("MCP_TIMEOUT"))
    return min(value / 1000, MAX_HANDSHAKE_S) if value else policy.mcp_timeout_s


def family_budget_s(policy) -> float:
    """The whole MCP family ends within this: it runs inside one check, and that check has check_timeout_s."""
    return max(1.0, policy.check_timeout_s - 2.0)


def _guarded(deadline: float, handshake, *args) -> Handshake:
    """One server's handshake within the family deadline; whatever goes wrong is that server's result."""
    remaining = deadline - time.monotonic()
    if stopping():
        return Handshake(failure="cancelled")
    if remaining <= 0.5:
        return Handshake(failure="budget")
    try:
        return handshake(*args, remaining)
    except Exception as exc:  # noqa: BLE001 - one server's oddity must not lose the others' results
        return Handshake(failure="error", detail=f"{type(exc).__name__}: {exc}"[:300])


def _run_survey(env: Env, policy) -> dict[str, McpFacts]:
    facts, jobs = {}, {}
    timeout = timeout_s(env, policy)
    extra_ca = env.environ.get("NODE_EXTRA_CA_CERTS")
    deadline = time.monotonic() + family_budget_s(policy)
    pool = _LazyPool()  # --no-mcp-start and the hook start no server: no pool, not even its import
    try:
        for server in discover(env, policy.config_max_bytes):
            s = shape(server, env.environ)
            f = McpFacts(server, s)
            facts[server.id] = f
            server_env = {**env.environ, **s.env}
            if server.transport == "stdio" and s.argv and s.argv[0]:
                f.path = server_env.get("PATH", DEFAULT_PATH)
                f.resolved = resolve(env, s.argv[0], f.path)
            if server.shadowed_by:
                f.not_started = "shadowed"
            elif s.problems or s.missing_vars:
                f.not_started = "broken"
            elif not policy.mcp_start:
                f.not_started = "no-start"
            elif not server.approved:
                f.not_started = "not-approved"
            elif server.transport == "stdio":
                if f.resolved:
                    argv = [f.resolved, *s.argv[1:]]
                    jobs[server.id] = pool.submit(_guarded, deadline, _stdio_within, env, argv, server_env, env.project,
                                                  timeout)  # fmt: skip
            else:
                jobs[server.id] = pool.submit(_guarded, deadline, _http_within, env, s.url, s.headers, server.transport,
                                              timeout, extra_ca)  # fmt: skip
        for server_id, job in jobs.items():
            facts[server_id].handshake = _collect(job, deadline)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # queued servers never start once we stop waiting
    return facts


class _LazyPool:
    """A ThreadPoolExecutor made when the first server is submitted."""

    def __init__(self) -> None:
        self._pool = None

    def submit(self, *args):
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="mcp")
        return self._pool.submit(*args)

    def shutdown(self, wait: bool, cancel_futures: bool) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def _stdio_within(env, argv, environ, cwd, timeout, remaining) -> Handshake:
    return stdio_handshake(env, argv, environ, cwd, min(timeout, remaining))


def _http_within(env, url, headers, transport, timeout, extra_ca, remaining) -> Handshake:
    return http_handshake(env, url, headers, transport, min(timeout, remaining), extra_ca)


def _collect(job, deadline: float) -> Handshake:
    from concurrent.futures import CancelledError
    from concurrent.futures import TimeoutError as FutureTimeout

    try:
        return job.result(timeout=max(0.0, deadline - time.monotonic()) + 1.0)
    except FutureTimeout:
        job.cancel()
        return Handshake(failure="budget")
    except CancelledError:
        return Handshake(failure="cancelled")


def server_targets(env: Env, policy) -> list[Server]:
    return discover(env, policy.config_max_bytes)
