"""Memory facts: /proc/meminfo, pressure, cgroup limits, OOM-kill evidence, WSL2 and heap flags."""

from __future__ import annotations

import re
from pathlib import Path

from claude_preflight.env import Env
from claude_preflight.records import dataclass

KIB = 1024
UNLIMITED = 1 << 60  # cgroup v1 reports "no limit" as a page-rounded 2^63


# -- /proc/meminfo and pressure ---------------------------------------------------------------
@dataclass(frozen=True)
class Meminfo:
    total: int
    available: int
    swap_total: int
    swap_free: int
    source: str  # "/proc/meminfo" or "psutil"

    @property
    def swap_used_percent(self) -> float:
        return 100 * (self.swap_total - self.swap_free) / self.swap_total if self.swap_total else 0.0


def parse_meminfo(text: str) -> dict[str, int]:
    values = {}
    for line in text.splitlines():
        match = re.match(r"(\w+):\s+(\d+)(?:\s+kB)?", line)
        if match:
            values[match.group(1)] = int(match.group(2)) * (KIB if line.rstrip().endswith("kB") else 1)
    return values


def meminfo(env: Env) -> Meminfo | None:
    """From the sysroot's /proc/meminfo; on a system without /proc (macOS) from psutil."""
    path = env.sys_path("/proc/meminfo")
    if env.exists(path):
        values = parse_meminfo(env.read_text(path))
        available = values.get("MemAvailable", values.get("MemFree", 0) + values.get("Cached", 0))
        return Meminfo(
            values.get("MemTotal", 0), available, values.get("SwapTotal", 0), values.get("SwapFree", 0), str(path)
        )
    if env.simulated:
        return None
    return Meminfo(*env.memory_figures(), "psutil")


def memory_pressure(env: Env) -> float | None:
    """`some avg60` of /proc/pressure/memory (PSI), or None where the kernel does not offer it."""
    path = env.sys_path("/proc/pressure/memory")
    try:
        text = env.read_text(path)
    except OSError:
        return None
    match = re.search(r"^some\b.*\bavg60=([\d.]+)", text, re.M)
    return float(match.group(1)) if match else None


# -- cgroups ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CgroupMemory:
    version: int  # 1 or 2
    path: str  # this process's cgroup, as /proc/self/cgroup says
    limit: int | None  # effective limit in bytes (the smallest on the way up); None: unlimited
    limit_at: str | None  # the directory that sets it
    high: int | None  # v2 memory.high (throttling starts there)
    usage: int | None
    oom_kills: int


def _number(text: str) -> int | None:
    text = text.strip()
    if text in ("max", ""):
        return None
    value = int(text)
    return None if value >= UNLIMITED else value


def _read_number(env: Env, path: Path) -> int | None:
    try:
        return _number(env.read_text(path))
    except (OSError, ValueError):
        return None


def _levels(root: Path, relative: str) -> list[Path]:
    """The cgroup directory and each ancestor up to the mount root, innermost first."""
    parts = [p for p in relative.split("/") if p]
    return [root.joinpath(*parts[:n]) for n in range(len(parts), -1, -1)]


def _oom_kills(env: Env, path: Path, key: str) -> int:
    try:
        text = env.read_text(path)
    except OSError:
        return 0
    match = re.search(rf"^{key}\s+(\d+)", text, re.M)
    return int(match.group(1)) if match else 0


def cgroup_memory(env: Env) -> CgroupMemory | None:
    """The memory limit that applies to this process (cgroup v1 or v2), or None without cgroups."""
    try:
        lines = env.read_text(env.sys_path("/proc/self/cgroup")).splitlines()
    except OSError:
        return None
    entries = [line.split(":", 2) for line in lines if line.count(":") >= 2]
    v1 = next((path for _, controllers, path in entries if "memory" in controllers.split(",")), None)
    if v1 is not None:
        return _cgroup_v1(env, v1)
    v2 = next((path for hid, controllers, path in entries if hid == "0" and controllers == ""), None)
    if v2 is not None:
        return _cgroup_v2(env, v2)
    return None


def _effective(env: Env, levels: list[Path], name: str) -> tuple[int | None, str | None]:
    limit, at = None, None
    for level in levels:
        value = _read_number(env, level / name)
        if value is not None and (limit is None or value < limit):
            limit, at = value, str(level)
    return limit, at


def _cgroup_v1(env: Env, relative: str) -> CgroupMemory:
    levels = [lvl for lvl in _levels(env.sys_path("/sys/fs/cgroup/memory"), relative) if env.exists(lvl)]
    limit, at = _effective(env, levels, "memory.limit_in_bytes")
    own = levels[0] if levels else env.sys_path("/sys/fs/cgroup/memory")
    usage = _read_number(env, own / "memory.usage_in_bytes")
    return CgroupMemory(1, relative, limit, at, None, usage, _oom_kills(env, own / "memory.oom_control", "oom_kill"))


def _cgroup_v2(env: Env, relative: str) -> CgroupMemory:
    root = env.sys_path("/sys/fs/cgroup")
    if not env.exists(root / "cgroup.controllers") and env.exists(root / "unified"):
        root = root / "unified"  # hybrid layout: v2 mounted beside the v1 controllers
    levels = [lvl for lvl in _levels(root, relative) if env.exists(lvl)]
    limit, at = _effective(env, levels, "memory.max")
    high, _ = _effective(env, levels, "memory.high")
    own = next((lvl for lvl in levels if env.exists(lvl / "memory.current")), levels[0] if levels else root)
    usage = _read_number(env, own / "memory.current")
    kills = _oom_kills(env, own / "memory.events", "oom_kill")
    return CgroupMemory(2, relative, limit, at, high, usage, kills)


# -- OOM-kill evidence ---------------------------------------------------------------------------
@dataclass(frozen=True)
class OomKill:
    line: str
    pid: int
    process: str
    anon_rss_kib: int | None


@dataclass(frozen=True)
class OomEvidence:
    vmstat_oom_kills: int | None  # since boot; None where /proc/vmstat is missing
    log_source: str | None  # "dmesg" or "journalctl -k"; None when neither could be read
    log_error: str | None  # why the kernel log could not be read (restricted, not installed)
    claude_kills: tuple[OomKill, ...]
    other_kills: int


KILLED = re.compile(r"Killed process (\d+) \(([^)]*)\)(?:.*?anon-rss:(\d+)kB)?")
VERSION_NAME = re.compile(r"^\d+\.\d+\.\d+")  # the native build runs as ~/.local/share/claude/versions/<version>


def is_claude_name(name: str) -> bool:
    return name in ("claude", "claude.exe") or bool(VERSION_NAME.match(name))


def parse_kernel_log(text: str) -> tuple[list[OomKill], int]:
    claude, others = [], 0
    for line in text.splitlines():
        match = KILLED.search(line)
        if not match:
            continue
        if is_claude_name(match.group(2)):
            rss = int(match.group(3)) if match.group(3) else None
            claude.append(OomKill(line.strip()[:300], int(match.group(1)), match.group(2), rss))
        else:
            others += 1
    return claude, others


def oom_evidence(env: Env, timeout: float) -> OomEvidence:
    try:
        text = env.read_text(env.sys_path("/proc/vmstat"))
        match = re.search(r"^oom_kill (\d+)", text, re.M)
        vmstat = int(match.group(1)) if match else None
    except OSError:
        vmstat = None
    errors = []
    # Never /proc/kmsg: reading it blocks. dmesg first, then the journal.
    commands = (
        ("dmesg", ["dmesg", "--ctime"]),  # human-readable times: the evidence says when
        ("dmesg", ["dmesg"]),  # busybox and older util-linux have no --ctime
        ("journalctl -k", ["journalctl", "-k", "-q", "--no-pager"]),
    )
    for source, argv in commands:
        if source == "dmesg" and argv == ["dmesg"] and not any("--ctime" in e or "option" in e for e in errors):
            continue  # plain dmesg only helps when --ctime was the problem
        binary = env.system_command(argv[0])
        if not binary:
            errors.append(f"{argv[0]}: not installed")
            continue
        try:
            run = env.run([binary, *argv[1:]], timeout=timeout)
        except OSError as exc:
            errors.append(f"{argv[0]}: {exc}")
            continue
        if run.timed_out:
            errors.append(f"{argv[0]}: no answer within {timeout:g} s")
        elif run.returncode != 0 or (source == "journalctl -k" and "No journal files" in run.stderr):
            errors.append(f"{argv[0]}: {run.error_line}")
        else:
            kills, others = parse_kernel_log(run.stdout)
            return OomEvidence(vmstat, source, None, tuple(kills), others)
    return OomEvidence(vmstat, None, "; ".join(errors), (), 0)


# -- WSL2 --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WslConfig:
    path: Path
    encoding: str  # "utf-8", "utf-8 with BOM", "utf-16", "unreadable"
    memory: int | None
    swap: int | None
    problems: tuple[tuple[str, str], ...]  # (code, value): utf-16, no-wsl2-section, bad-size (memory=abc)


@dataclass(frozen=True)
class WslFacts:
    is_wsl: bool
    signs: tuple[str, ...]
    config: WslConfig | None
    searched: tuple[str, ...]


UNITS = {
    "": 1,
    "B": 1,
    "K": KIB,
    "KB": KIB,
    "M": KIB**2,
    "MB": KIB**2,
    "G": KIB**3,
    "GB": KIB**3,
    "T": KIB**4,
    "TB": KIB**4,
}


def parse_size(text: str) -> int | None:
    """A .wslconfig size: 8GB, 8192MB, 8G, 512 (bytes)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?B?)\s*", text, re.I)
    if not match:
        return None
    return int(float(match.group(1)) * UNITS[match.group(2).upper()])


def parse_wslconfig(path: Path, raw: bytes) -> WslConfig:
    problems = []
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding, text = "utf-16", raw.decode("utf-16", "replace")
        problems.append(("utf-16", ""))
    elif raw.startswith(b"\xef\xbb\xbf"):
        encoding, text = "utf-8 with BOM", raw[3:].decode("utf-8", "replace")
    else:
        encoding, text = "utf-8", raw.decode("utf-8", "replace")
    section, values = None, {}
    for line in text.replace("\r\n", "\n").split("\n"):
        line = line.split("#", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip().lower()
        elif "=" in line and section == "wsl2":
            key, value = (part.strip() for part in line.split("=", 1))
            values[key.lower()] = value
    if not any(line.strip().lower() == "[wsl2]" for line in text.replace("\r", "").split("\n")):
        problems.append(("no-wsl2-section", ""))
    memory = parse_size(values["memory"]) if "memory" in values else None
    swap = parse_size(values["swap"]) if "swap" in values else None
    for key, parsed in (("memory", memory), ("swap", swap)):
        if key in values and parsed is None:
            problems.append(("bad-size", f"{key}={values[key]}"))
    return WslConfig(path, encoding, memory, swap, tuple(problems))


def wsl_facts(env: Env, timeout: float) -> WslFacts:
    signs = []
    try:
        if "microsoft" in env.read_text(env.sys_path("/proc/version")).lower():
            signs.append("/proc/version names Microsoft")
    except OSError:
        pass
    if env.environ.get("WSL_DISTRO_NAME"):
        signs.append(f"WSL_DISTRO_NAME={env.environ['WSL_DISTRO_NAME']}")
    if env.exists(env.sys_path("/proc/sys/fs/binfmt_misc/WSLInterop")):
        signs.append("WSLInterop is registered")
    if not signs:
        return WslFacts(False, (), None, ())
    candidates = _wslconfig_candidates(env, timeout)
    for path in candidates:
        try:
            raw = env.read_bytes(path, 1 << 20)
        except OSError:
            continue
        return WslFacts(True, tuple(signs), parse_wslconfig(path, raw), tuple(map(str, candidates)))
    return WslFacts(True, tuple(signs), None, tuple(map(str, candidates)))


def _wslconfig_candidates(env: Env, timeout: float) -> list[Path]:
    found = []
    cmd = env.system_command("cmd.exe")
    if cmd:  # interop: ask Windows for the profile directory
        try:
            run = env.run([cmd, "/c", "echo %USERPROFILE%"], timeout=timeout)
            match = re.match(r"([A-Za-z]):\\(.*)", run.stdout.strip())
            if match:
                rest = match.group(2).replace("\\", "/")
                found.append(env.sys_path(f"/mnt/{match.group(1).lower()}/{rest}") / ".wslconfig")
        except OSError:
            pass
    users = env.sys_path("/mnt/c/Users")
    for path, _ in sorted(env.entries(users)):
        if path.name not in ("Public", "Default", "Default User", "All Users"):
            candidate = path / ".wslconfig"
            if candidate not in found and env.exists(candidate):
                found.append(candidate)
    return found


# -- NODE_OPTIONS ---------------------------------------------------------------------------------------
def heap_limit_mb(node_options: str) -> int | None:
    match = re.search(r"--max[-_]old[-_]space[-_]size[= ](\d+)", node_options)
    return int(match.group(1)) if match else None
