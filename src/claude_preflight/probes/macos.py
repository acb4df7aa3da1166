"""macOS facts: sysctl, memory pressure, jetsam reports, the unified log, launchctl limits, the Keychain.

Every command is a system tool resolved through Env (under --sysroot, only the tree's stand-ins), bounded by a
timeout. Facts only: figures, flags and codes; the rules say what they mean.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from pathlib import Path

from claude_preflight.env import SYSTEM_DIRS, Env
from claude_preflight.probes import once_per_run
from claude_preflight.probes.memory import Meminfo, is_claude_name
from claude_preflight.records import dataclass

# `security` exits with the low byte of the OSStatus: errSecItemNotFound (-25300) -> 44, errSecInteractionNotAllowed
# (-25308, a locked keychain in an SSH session) -> 36. Claude Code 2.1.330 treats exactly [44, 36] as "no item".
SECURITY_NOT_FOUND = 44
SECURITY_LOCKED = 36
SYSCTL_NAMES = (
    "hw.memsize",
    "hw.pagesize",
    "kern.memorystatus_vm_pressure_level",
    "vm.swapusage",
    "kern.maxfiles",
    "kern.maxfilesperproc",
    "hw.optional.arm64",
    "hw.optional.avx1_0",
    "hw.optional.avx2_0",
    "sysctl.proc_translated",
    "machdep.cpu.brand_string",
)


def _command(env: Env, name: str, args: list[str], timeout: float):
    """A system tool's RunResult, or None when it is not there or cannot start."""
    binary = env.system_command(name)
    if not binary and not env.simulated:  # a PATH without /usr/sbin (sysctl) still has the Mac's own tools
        binary = next((f"{d}/{name}" for d in SYSTEM_DIRS if env.is_executable_file(Path(d) / name)), None)
    if not binary:
        return None
    try:
        return env.run([binary, *args], timeout=timeout)
    except OSError:
        return None


# -- sysctl --------------------------------------------------------------------------------------------------
def sysctl(env: Env, timeout: float) -> dict[str, str]:
    """The sysctl values above that this Mac has (`sysctl NAME...`: one `name: value` line each; unknown names
    go to stderr), read once per run."""
    return once_per_run("sysctl", env, timeout, lambda: _sysctl(env, timeout))


def _sysctl(env: Env, timeout: float) -> dict[str, str]:
    run = _command(env, "sysctl", list(SYSCTL_NAMES), timeout)
    values = {}
    for line in (run.stdout if run and not run.timed_out else "").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip() in SYSCTL_NAMES:
            values[name.strip()] = value.strip()
    return values


def _int(values: dict[str, str], name: str) -> int | None:
    try:
        return int(values[name])
    except (KeyError, ValueError):
        return None


SIZE = re.compile(r"(\w+) = ([\d.,]+)([KMGT])")
UNIT = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_swapusage(text: str) -> dict[str, int]:
    """`total = 2048.00M  used = 1285.25M  free = 762.75M  (encrypted)` (some locales print 1024,00M)."""
    return {k: int(float(n.replace(",", ".")) * UNIT[u]) for k, n, u in SIZE.findall(text)}


# -- memory ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MacMemory:
    total: int | None  # hw.memsize
    pressure_level: int | None  # kern.memorystatus_vm_pressure_level: 1 normal, 2 warn, 4 critical
    free_percent: int | None  # memory_pressure -Q: "System-wide memory free percentage"
    swap_total: int | None
    swap_used: int | None
    page_size: int | None
    pages: dict[str, int]  # vm_stat: free, active, inactive, speculative, wired down, occupied by compressor ...


def parse_vm_stat(text: str) -> tuple[int | None, dict[str, int]]:
    size = re.search(r"page size of (\d+) bytes", text)
    pages = {}
    for match in re.finditer(r'^"?([A-Za-z][\w \-]*?)"?:\s+(\d+)\.?\s*$', text, re.M):
        pages[match.group(1).removeprefix("Pages ").strip().lower()] = int(match.group(2))
    return (int(size.group(1)) if size else None), pages


def parse_free_percent(text: str) -> int | None:
    match = re.search(r"System-wide memory free percentage:\s*(\d+)%", text)
    return int(match.group(1)) if match else None


def mac_memory(env: Env, timeout: float) -> MacMemory:
    values = sysctl(env, timeout)
    pressure = _command(env, "memory_pressure", ["-Q"], timeout)
    vm_stat = _command(env, "vm_stat", [], timeout)
    page_size, pages = parse_vm_stat(vm_stat.stdout) if vm_stat and vm_stat.returncode == 0 else (None, {})
    swap = parse_swapusage(values.get("vm.swapusage", ""))
    return MacMemory(
        total=_int(values, "hw.memsize"),
        pressure_level=_int(values, "kern.memorystatus_vm_pressure_level"),
        free_percent=parse_free_percent(pressure.stdout) if pressure and pressure.returncode == 0 else None,
        swap_total=swap.get("total"),
        swap_used=swap.get("used"),
        page_size=page_size or _int(values, "hw.pagesize"),
        pages=pages,
    )


def meminfo(env: Env, timeout: float) -> Meminfo | None:
    """The figures other checks compare with (RAM, roughly available, swap), from sysctl and memory_pressure."""
    m = mac_memory(env, timeout)
    if not m.total:
        return None
    available = m.total * m.free_percent // 100 if m.free_percent is not None else m.total
    swap_total = m.swap_total or 0
    return Meminfo(m.total, available, swap_total, swap_total - (m.swap_used or 0), "sysctl hw.memsize")


# -- physical footprint: what jetsam, Activity Monitor's Memory column and `footprint(1)` count --------------------
TOP_ROW = re.compile(r"^\s*(\d+)\s+(\d+(?:\.\d+)?)([BKMGT])[+-]?\s*$")
TOP_UNIT = {"B": 1, **UNIT}


def parse_top_footprints(text: str) -> dict[int, int]:
    """`top -l 1 -stats pid,mem`: a banner, a `PID MEM` header, then rows such as `7132   1066M` (MEM left-aligned,
    so it may carry trailing spaces). Only rows of that shape count: a banner line is never read as a process."""
    found = {}
    for line in text.splitlines():
        match = TOP_ROW.match(line)
        if match:
            found[int(match.group(1))] = int(float(match.group(2)) * TOP_UNIT[match.group(3)])
    return found


def footprints(env: Env, timeout: float) -> dict[int, int] | None:
    """pid -> physical footprint in bytes for every process (one `top` sample); None when top did not answer.
    -n: top prints at most that many processes, and a process left out would read as no figure."""
    run = _command(env, "top", ["-l", "1", "-n", "100000", "-stats", "pid,mem"], timeout)
    if run is None or run.timed_out or run.returncode != 0:
        return None
    return parse_top_footprints(run.stdout) or None


# -- jetsam ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class JetsamKill:
    report: str  # the .ips file
    when: str  # its timestamp
    name: str  # the process name jetsam recorded (the native Claude Code runs under its version, e.g. 2.1.37)
    pid: int | None
    reason: str  # vm-pageshortage, per-process-limit, ...
    footprint: int  # rpages x pageSize, bytes
    largest: bool  # the report names it as largestProcess


@dataclass(frozen=True)
class JetsamReport:
    path: str
    when: str
    largest: str | None
    claude_count: int  # Claude Code processes the report lists (killed or not)
    claude_footprint: int


@dataclass(frozen=True)
class CodeSignKill:
    path: str
    when: str
    process: str


@dataclass(frozen=True)
class MacOom:
    directories: tuple[str, ...]  # where reports were looked for
    reports: tuple[JetsamReport, ...]
    claude_kills: tuple[JetsamKill, ...]
    other_kills: int
    log_source: str | None  # "log show" when the unified log was read
    log_claude_lines: tuple[str, ...]
    log_other_kills: int
    log_error: str | None
    unreadable: tuple[str, ...] = ()  # reports that could not be read (permissions) or parsed


def report_dirs(env: Env) -> list[Path]:
    return [env.sys_path("/Library/Logs/DiagnosticReports"), env.home / "Library" / "Logs" / "DiagnosticReports"]


def read_ips(env: Env, path: Path, limit: int = 16 << 20) -> tuple[dict, dict] | None:
    """An .ips file: a one-line JSON header, then a JSON body (older reports: one document)."""
    try:
        text = env.read_text(path, limit)
    except (OSError, ValueError):
        return None
    head, _, body = text.partition("\n")
    try:
        header = json.loads(head)
        document = json.loads(body) if body.strip() else header
    except ValueError:
        return None
    return (header, document) if isinstance(header, dict) and isinstance(document, dict) else None


def _reports(env: Env, prefix: str, max_age_days: float) -> list[Path]:
    """Reports written in the last `max_age_days` (macOS keeps them for weeks; an old one is history)."""
    found, since = [], env.now() - max_age_days * 86400
    for directory in report_dirs(env):
        found += [p for p, info in env.entries(directory)
                  if p.name.startswith(prefix) and p.name.endswith(".ips") and info.st_mtime >= since]  # fmt: skip
    return sorted(found, key=lambda p: p.name)


def jetsam(env: Env, timeout: float, max_age_days: float) -> MacOom:
    reports, kills, others, unreadable = [], [], 0, []
    for path in _reports(env, "JetsamEvent-", max_age_days):
        parsed = read_ips(env, path)
        if parsed is None:
            unreadable.append(str(path))
            continue
        header, body = parsed
        status = body.get("memoryStatus") if isinstance(body.get("memoryStatus"), dict) else {}
        page = next((v for v in (status.get("pageSize"), body.get("pageSize")) if isinstance(v, int)), 16384)
        when = str(header.get("timestamp") or body.get("date") or path.stem.removeprefix("JetsamEvent-"))
        largest = body.get("largestProcess") if isinstance(body.get("largestProcess"), str) else None
        count = footprint = 0
        for proc in body.get("processes") or []:
            if not isinstance(proc, dict):
                continue
            name, rpages = str(proc.get("name", "")), proc.get("rpages") if isinstance(proc.get("rpages"), int) else 0
            claude = is_claude_name(name)
            if claude:
                count, footprint = count + 1, footprint + rpages * page
            if proc.get("killDelta") is not None or proc.get("reason"):
                if claude:
                    kills.append(JetsamKill(str(path), when, name, proc.get("pid"), str(proc.get("reason") or "?"),
                                            rpages * page, name == largest))  # fmt: skip
                else:
                    others += 1
        reports.append(JetsamReport(str(path), when, largest, count, footprint))
    source, lines, log_others, error = _unified_log(env, timeout)
    # The same kill is in a report and in the log: count it once (by pid).
    reported = {f"pid {kill.pid} " for kill in kills}
    lines = tuple(line for line in lines if not any(pid in line for pid in reported))
    dirs = tuple(str(d) for d in report_dirs(env))
    return MacOom(dirs, tuple(reports), tuple(kills), others, source, lines, log_others, error, tuple(unreadable))


KILLING = re.compile(r"memorystatus: killing(?:_\w+)? (?:process )?(?:pid )?(\d+) \[([^\]]+)\]")


def _unified_log(env: Env, timeout: float) -> tuple[str | None, tuple[str, ...], int, str | None]:
    """`log show` over the last day for jetsam's own lines (bounded: the log can be large and slow)."""
    predicate = 'eventMessage CONTAINS "memorystatus: killing"'
    run = _command(env, "log", ["show", "--last", "1d", "--style", "syslog", "--predicate", predicate], timeout)
    if run is None:
        return None, (), 0, "log: not installed"
    if run.timed_out:
        return None, (), 0, f"log show: no answer within {timeout:g} s"
    if run.returncode != 0:
        return None, (), 0, f"log show: {run.error_line}"
    claude, others = [], 0
    for line in run.stdout.splitlines():
        match = KILLING.search(line)
        if match and is_claude_name(match.group(2)):
            claude.append(line.strip()[:300])
        elif match:
            others += 1
    return "log show", tuple(claude), others, None


def codesign_kills(env: Env, max_age_days: float) -> list[CodeSignKill]:
    """Crash reports of Claude Code processes macOS killed at exec for their code signature."""
    found = []
    for path in _reports(env, "", max_age_days):
        if path.name.startswith("JetsamEvent-") or not is_claude_name(path.name.split("-", 1)[0]):
            continue
        parsed = read_ips(env, path, 4 << 20)
        if parsed is None:
            continue
        header, body = parsed
        signal = str((body.get("exception") or {}).get("signal", ""))
        if "Code Signature Invalid" in signal:
            when = str(header.get("timestamp") or body.get("captureTime") or "")
            found.append(CodeSignKill(str(path), when, str(body.get("procName") or header.get("name") or "")))
    return found


# -- limits and CPU -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MacLimits:
    launchd_soft: int | None  # launchctl limit maxfiles: what GUI-started terminals (and so claude) inherit
    launchd_hard: int | None  # None: unlimited
    kern_maxfiles: int | None
    kern_maxfilesperproc: int | None
    own_soft: int | None  # this process's soft RLIMIT_NOFILE (None in a simulation: not this machine's)
    read: bool  # launchctl answered


def parse_launchctl_limit(text: str) -> tuple[int | None, int | None] | None:
    match = re.search(r"maxfiles\s+(\d+|unlimited)\s+(\d+|unlimited)", text)
    if not match:
        return None
    soft, hard = (None if v == "unlimited" else int(v) for v in match.groups())
    return soft, hard


def mac_limits(env: Env, timeout: float) -> MacLimits:
    values = sysctl(env, timeout)
    run = _command(env, "launchctl", ["limit", "maxfiles"], timeout)
    parsed = parse_launchctl_limit(run.stdout) if run and run.returncode == 0 else None
    own = None if env.simulated else env.nofile_limit()[0]
    soft, hard = parsed or (None, None)
    return MacLimits(soft, hard, _int(values, "kern.maxfiles"), _int(values, "kern.maxfilesperproc"), own,
                     parsed is not None)  # fmt: skip


@dataclass(frozen=True)
class MacCpu:
    apple_silicon: bool | None  # hw.optional.arm64
    avx1: bool | None  # None: the sysctl is not there (Apple Silicon has no AVX oids)
    avx2: bool | None
    translated: bool | None  # sysctl.proc_translated: this process runs under Rosetta
    brand: str | None
    claude_arch: str | None  # the running claude binary's Mach-O CPU type: arm64, x86_64, universal, script
    claude_path: str | None


MACHO = {0x01000007: "x86_64", 0x0100000C: "arm64"}


def macho_arch(env: Env, path: str) -> str | None:
    """The CPU type in a Mach-O header (thin 64-bit, or 'universal' for a fat binary); 'script' for #!."""
    try:
        with env.open_regular(Path(path)) as handle:
            head = handle.read(8)
    except (OSError, ValueError):
        return None
    if head[:2] == b"#!":
        return "script"
    if head[:4] == b"\xcf\xfa\xed\xfe":  # MH_MAGIC_64, little-endian
        return MACHO.get(int.from_bytes(head[4:8], "little"), "other")
    if head[:4] in (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf"):
        return "universal"
    return None


def mac_cpu(env: Env, timeout: float, claude_path: str | None) -> MacCpu:
    values = sysctl(env, timeout)

    def flag(name: str) -> bool | None:
        number = _int(values, name)
        return None if number is None else number == 1

    arch = macho_arch(env, env.real_path(Path(claude_path)).as_posix()) if claude_path else None
    return MacCpu(flag("hw.optional.arm64"), flag("hw.optional.avx1_0"), flag("hw.optional.avx2_0"),
                  flag("sysctl.proc_translated"), values.get("machdep.cpu.brand_string"), arch, claude_path)  # fmt: skip


# -- the Keychain --------------------------------------------------------------------------------------------------
def keychain_service(env: Env, kind: str = "-credentials") -> str:
    """Claude Code's Keychain service name: "Claude Code" + kind, and with CLAUDE_CONFIG_DIR set a suffix of the
    first 8 hex digits of sha256(the directory, NFC) - as Claude Code 2.1.330 computes it: its binary has
    `Claude Code${OAUTH_FILE_SUFFIX}${kind}` + (CLAUDE_CONFIG_DIR unset ? "" : "-" + sha256(dir).hex[0:8]), with
    dir = (process.env.CLAUDE_CONFIG_DIR ?? ~/.claude).normalize("NFC"), the variable as set (not expanded)."""
    custom = env.environ.get("CLAUDE_SECURESTORAGE_CONFIG_DIR")
    directory = custom if custom is not None else env.environ.get("CLAUDE_CONFIG_DIR")
    if not directory:
        return f"Claude Code{kind}"
    digest = hashlib.sha256(unicodedata.normalize("NFC", directory).encode()).hexdigest()[:8]
    return f"Claude Code{kind}-{digest}"


def keychain_account(env: Env) -> str:
    """$USER as Claude Code uses it (a name outside [A-Za-z0-9._-] becomes claude-code-user)."""
    user = env.environ.get("USER") or env.user_name(env.uid)
    return user if re.fullmatch(r"[a-zA-Z0-9._-]+", user) else "claude-code-user"


@dataclass(frozen=True)
class KeychainItem:
    service: str
    account: str
    state: str  # found, not-found, locked, no-security, timeout, error
    secret: str | None = None  # never printed; registered for redaction when read
    exit_code: int | None = None


def keychain_item(env: Env, service: str, timeout: float) -> KeychainItem:
    account = keychain_account(env)
    run = _command(env, "security", ["find-generic-password", "-s", service, "-a", account, "-w"], timeout)
    if run is None:
        return KeychainItem(service, account, "no-security")
    if run.timed_out:
        return KeychainItem(service, account, "timeout")
    secret = run.stdout.strip()
    if secret:
        env.this_run.learn(secret)  # the moment it is read: nothing printed after this can hold it
        for token in re.findall(r"sk-ant-[\w-]+", secret):
            env.this_run.learn(token)
    if run.returncode == 0 and secret:
        return KeychainItem(service, account, "found", secret, 0)
    state = {SECURITY_NOT_FOUND: "not-found", SECURITY_LOCKED: "locked"}.get(run.returncode, "error")
    return KeychainItem(service, account, state, None, run.returncode)


def keychain_certificates(env: Env, timeout: float) -> tuple[str, ...] | None:
    """PEM certificates in the System keychain and the login keychain (`security find-certificate -a -p`)."""
    found: list[str] = []
    answered = False
    for keychain in ("/Library/Keychains/System.keychain", str(env.home / "Library/Keychains/login.keychain-db")):
        run = _command(env, "security", ["find-certificate", "-a", "-p", keychain], timeout)
        if run is None or run.timed_out or run.returncode != 0:
            continue
        answered = True
        found += re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", run.stdout, re.S)
    return tuple(found) if answered else None


def keychain_ca_subjects(env: Env, timeout: float) -> tuple[str, ...] | None:
    """Subjects of the certificates in the System and login keychains (where a corporate CA is installed on a Mac);
    None when `security` did not answer."""
    pems = keychain_certificates(env, timeout)
    if pems is None:
        return None
    return tuple(subject for subject in map(env.certificate_subject, pems) if subject)
