"""Rules for memory: headroom, cgroup limits, OOM kills, WSL2, heap flags, leftover processes, killed sessions."""

from __future__ import annotations

from claude_preflight.outcome import Finding, Result, Status, combine, fail, ok, skip, warn
from claude_preflight.policy import Policy
from claude_preflight.probes.install import is_native
from claude_preflight.probes.macos import MacMemory, MacOom
from claude_preflight.probes.memory import CgroupMemory, Meminfo, OomEvidence, WslFacts, is_claude_name
from claude_preflight.probes.processes import ClaudeProcess
from claude_preflight.probes.sessions import RegistryEntry, UngracefulProject
from claude_preflight.values import local_time

GIB = 1024**3
MIB = 1024**2
DOCS = "https://code.claude.com/docs/en/troubleshooting"
OOM = (
    "The kernel kills Claude Code without a word when memory runs out (`Killed process N (claude)`); the session "
    "vanishes and `--resume` may not find it."
)
WINDOWS_WSLCONFIG = "C:\\Users\\<you>\\.wslconfig"


def gib(n: float) -> str:
    return f"{n / GIB:.1f} GiB"


def age(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min"


def evaluate_headroom(mem: Meminfo | None, pressure: float | None, policy: Policy) -> Result:
    if mem is None or not mem.total:
        return skip("no memory figures here (no /proc/meminfo under the sysroot)")
    evidence = [
        f"MemAvailable {gib(mem.available)} of MemTotal {gib(mem.total)} ({mem.source})",
        f"swap: {gib(mem.swap_total - mem.swap_free)} used of {gib(mem.swap_total)}"
        + (f" ({mem.swap_used_percent:.0f}%)" if mem.swap_total else " (no swap)"),
    ]
    if pressure is not None:
        evidence.append(f"memory pressure (PSI some avg60): {pressure:.2f}")
    close = "Close other memory-hungry programs (browsers, IDEs, containers) and other Claude Code sessions first."
    findings = []
    if mem.available < policy.mem_available_fail_gib * GIB:
        findings.append(
            Finding(
                Status.FAIL,
                f"only {gib(mem.available)} available (under {policy.mem_available_fail_gib:g} GiB)",
                f"{OOM} Claude Code itself needs 200-250 MB, more with MCP servers and long sessions. {close}",
            )
        )
    elif mem.available < policy.mem_available_warn_gib * GIB:
        findings.append(
            Finding(
                Status.WARN,
                f"{gib(mem.available)} available (under {policy.mem_available_warn_gib:g} GiB)",
                f"{OOM} {close}",
            )
        )
    if mem.total < policy.mem_total_warn_gib * GIB:
        findings.append(
            Finding(
                Status.WARN,
                f"{gib(mem.total)} of RAM (under {policy.mem_total_warn_gib:g} GiB)",
                "On a small machine keep sessions short (/compact, or a fresh session) and run one at a time.",
            )
        )
    if mem.swap_total and mem.swap_used_percent > policy.swap_used_warn_percent:
        findings.append(
            Finding(
                Status.WARN,
                f"swap {mem.swap_used_percent:.0f}% used (over {policy.swap_used_warn_percent:g}%)",
                "Swap nearly full means the next allocation spike ends in an OOM kill. Find the biggest "
                "processes with:\n  ps -eo pid,rss,etime,comm --sort=-rss | head",
            )
        )
    if pressure is not None and pressure > policy.pressure_warn_avg60:
        findings.append(
            Finding(
                Status.WARN,
                f"memory pressure {pressure:.1f} (PSI some avg60 over {policy.pressure_warn_avg60:g})",
                "Processes are already stalling on memory: free some before a long session.",
            )
        )
    return combine(findings, evidence, f"{gib(mem.available)} available of {gib(mem.total)}", DOCS)


def evaluate_cgroup(cg: CgroupMemory | None, policy: Policy) -> Result:
    if cg is None:
        return skip("no cgroup memory controller for this process (not Linux, or cgroups not mounted)")
    evidence = [f"cgroup v{cg.version} {cg.path}"]
    if cg.limit is not None:
        evidence.append(f"memory limit {gib(cg.limit)} (set at {cg.limit_at})")
    if cg.high is not None:
        evidence.append(f"memory.high {gib(cg.high)}: throttling starts there")
    if cg.usage is not None:
        evidence.append(f"in use now: {gib(cg.usage)}")
    evidence.append(f"OOM kills recorded by this cgroup: {cg.oom_kills}")
    raise_limit = (
        "Raise the container's memory limit, for example:\n"
        "  docker run --memory=8g ...                      (Docker)\n"
        '  "runArgs": ["--memory=8g"]                       (devcontainer.json)\n'
        "  resources: {limits: {memory: 8Gi}}               (Kubernetes)\n"
        "  systemd-run --user -p MemoryMax=8G claude        (systemd)"
    )
    if cg.oom_kills:
        return fail(
            f"this cgroup has OOM-killed {cg.oom_kills} process(es)",
            *evidence,
            remediation=f"{OOM} Processes in this container or slice were killed for memory already.\n{raise_limit}",
            docs=DOCS,
        )
    if cg.limit is None:
        return ok("no cgroup memory limit", *evidence)
    if cg.limit < policy.cgroup_fail_gib * GIB:
        return fail(
            f"cgroup memory limit {gib(cg.limit)} (under {policy.cgroup_fail_gib:g} GiB)",
            *evidence,
            remediation=f"{OOM} A dev container hits this limit first.\n{raise_limit}",
            docs=DOCS,
        )
    if cg.limit < policy.cgroup_warn_gib * GIB:
        return warn(
            f"cgroup memory limit {gib(cg.limit)} (under {policy.cgroup_warn_gib:g} GiB)",
            *evidence,
            remediation=f"{OOM} Claude Code with a few MCP servers and a long session can exceed it.\n{raise_limit}",
            docs=DOCS,
        )
    return ok(f"cgroup memory limit {gib(cg.limit)}", *evidence)


def evaluate_oom(ev: OomEvidence) -> Result:
    evidence = []
    if ev.vmstat_oom_kills is not None:
        evidence.append(f"/proc/vmstat oom_kill: {ev.vmstat_oom_kills} since boot")
    if ev.log_source:
        evidence.append(
            f"kernel log read with {ev.log_source}: {len(ev.claude_kills)} Claude Code kill(s), {ev.other_kills} other(s)"
        )
    else:
        evidence.append(f"kernel log not readable: {ev.log_error}")
    for kill in ev.claude_kills[-10:]:
        rss = f", anon-rss {kill.anon_rss_kib / 1024:.0f} MiB" if kill.anon_rss_kib else ""
        evidence.append(f"pid {kill.pid} ({kill.process}){rss}: {kill.line}")
    if ev.claude_kills:
        return fail(
            f"the kernel OOM-killed Claude Code {len(ev.claude_kills)} time(s) since boot",
            *evidence,
            remediation=f"{OOM} Check available memory, the container limit and (on WSL2) .wslconfig; close "
            "leftover Claude Code sessions; keep sessions shorter. Lost sessions can often be resumed:\n"
            "  claude --resume",
            docs=DOCS,
        )
    if ev.vmstat_oom_kills:
        how = (
            "none of them Claude Code"
            if ev.log_source
            else "read the kernel log to see which: sudo dmesg | grep -i 'killed process'"
        )
        return warn(
            f"{ev.vmstat_oom_kills} OOM kill(s) since boot ({how})",
            *evidence,
            remediation=f"This machine has run out of memory since it booted; Claude Code may be next. {OOM}",
            docs=DOCS,
        )
    if ev.vmstat_oom_kills is None and not ev.log_source:
        return skip(f"no OOM evidence readable here ({ev.log_error})", *evidence)
    return ok("no OOM kill since boot", *evidence)


WSLCONFIG_PROBLEMS = {
    "utf-16": "saved as UTF-16: WSL may not read it; save it as UTF-8",
    "no-wsl2-section": "no [wsl2] section: WSL reads memory= and swap= only under [wsl2]",
    "bad-size": "{value}: not a size WSL understands (use e.g. 8GB)",
}


def evaluate_wsl(facts: WslFacts, mem: Meminfo | None, policy: Policy) -> Result:
    if not facts.is_wsl:
        return skip("not WSL")
    evidence = [f"WSL detected: {', '.join(facts.signs)}"]
    if mem:
        evidence.append(f"VM: MemTotal {gib(mem.total)}, SwapTotal {gib(mem.swap_total)}")
    config = facts.config
    if config is None:
        evidence.append(
            f"no .wslconfig found (looked at: {', '.join(facts.searched) or '/mnt/c/Users/*/.wslconfig'}): "
            "WSL's defaults are in force, 50% of the host's RAM and swap of 25% of that"
        )
    else:
        figures = ", ".join(
            f"{k}={gib(v)}" for k, v in (("memory", config.memory), ("swap", config.swap)) if v is not None
        )
        evidence.append(f"{config.path} ({config.encoding}): {figures or 'no memory= or swap='}")
    lines = (
        f"{config.path if config else WINDOWS_WSLCONFIG}:\n  [wsl2]\n  memory=16GB\n  swap=8GB\n"
        "then restart WSL from PowerShell:\n  wsl --shutdown"
    )
    findings = [
        Finding(Status.WARN, WSLCONFIG_PROBLEMS[code].format(value=value), f"Fix .wslconfig so WSL reads it. {lines}")
        for code, value in (config.problems if config else ())
    ]
    if mem and mem.total < policy.wsl_min_memory_gib * GIB:
        findings.append(
            Finding(
                Status.WARN,
                f"the WSL2 VM has {gib(mem.total)} (under {policy.wsl_min_memory_gib:g} GiB)",
                f"{OOM} Give the VM more memory in {lines}",
            )
        )
    if mem and mem.total and mem.swap_total < policy.wsl_min_swap_percent / 100 * mem.total:
        findings.append(
            Finding(
                Status.WARN,
                f"the WSL2 VM has {gib(mem.swap_total)} swap (under {policy.wsl_min_swap_percent:g}% of its memory)",
                f"{OOM} Give the VM more swap in {lines}",
            )
        )
    if config and config.memory and mem and mem.total < 0.85 * config.memory:
        findings.append(
            Finding(
                Status.WARN,
                f".wslconfig asks for memory={gib(config.memory)} but the VM has {gib(mem.total)}",
                "The setting is not in force yet: WSL reads .wslconfig only when it starts. From PowerShell:\n  wsl --shutdown",
            )
        )
    if mem is None and not findings:
        return skip("WSL detected, but the VM's memory figures are not readable here", *evidence)
    return combine(
        findings,
        evidence,
        "WSL2 memory and swap are large enough",
        "https://learn.microsoft.com/windows/wsl/wsl-config",
    )


def evaluate_heap(heap_mb: int | None, version: str | None, mem: Meminfo | None, node_options: str) -> Result:
    if heap_mb is None:
        return skip("NODE_OPTIONS sets no --max-old-space-size")
    evidence = [
        f"NODE_OPTIONS --max-old-space-size={heap_mb} ({heap_mb / 1024:.1f} GiB)",
        f"Claude Code version: {version or 'not found on PATH'}",
    ]
    if version and is_native(version):
        return ok(f"the heap flag has no effect: Claude Code {version} is the native build, not Node", *evidence)
    if mem and heap_mb * MIB > mem.total:
        return warn(
            f"the Node heap limit ({heap_mb / 1024:.1f} GiB) is larger than physical RAM ({gib(mem.total)})",
            *evidence,
            f"MemTotal {gib(mem.total)}",
            remediation="With a heap limit over physical RAM the OS kills Claude Code before the limit can "
            "turn into a clean 'JavaScript heap out of memory'. Set it to about half of RAM, e.g.:\n"
            f"  export NODE_OPTIONS=--max-old-space-size={int(mem.total / MIB / 2)}\n"
            "(only the JavaScript builds before 2.1.113 run on Node; upgrading makes the flag moot)",
            docs=DOCS,
        )
    return ok(f"the Node heap limit ({heap_mb / 1024:.1f} GiB) fits in RAM", *evidence)


def _describe(p: ClaudeProcess) -> str:
    kids = f" (+{len(p.children)} child process(es), {p.children_size / MIB:.0f} MiB)" if p.children else ""
    flags = [p.tty or "no tty"]
    if p.orphaned:
        flags.append("orphaned")
    if p.stream_json:
        flags.append("--output-format stream-json")
    size = (
        f"footprint {p.footprint / MIB:.0f} MiB (RSS {p.rss / MIB:.0f} MiB)"
        if p.footprint is not None
        else f"RSS {p.rss / MIB:.0f} MiB"
    )
    return f"pid {p.pid} ({p.user}), age {age(p.age_s)}, {size}{kids}, parent {p.ppid}, {', '.join(flags)}: {p.command}"


MAC_FIGURE = (
    "RSS as ps shows it (top gave no footprint); jetsam judges by physical footprint, which also counts compressed "
    "memory (Activity Monitor's Memory column, `footprint <pid>`), so the real figure can be larger"
)
FOOTPRINT = "physical footprint (top's MEM column: what jetsam and Activity Monitor's Memory column count)"


def evaluate_processes(
    procs: list[ClaudeProcess], uid: int, mem: Meminfo | None, policy: Policy, figure: str = "RSS"
) -> Result:
    own = [p for p in procs if p.uid == uid]
    others = [p for p in procs if p.uid != uid]
    evidence = [_describe(p) for p in own] + [f"other user: {_describe(p)}" for p in others]
    if any(p.footprint is not None for p in procs):
        evidence.append(f"memory figures: {FOOTPRINT}")
    elif figure != "RSS" and procs:
        evidence.append(f"memory figures: {figure}")
    if not own:
        return ok("no Claude Code process of yours is running", *evidence)
    rss = sum(p.size + p.children_size for p in own)  # footprint where measured (macOS), else RSS
    evidence.append(f"together (yours, with children): {gib(rss)}" + (f" of {gib(mem.total)} RAM" if mem else ""))
    old_orphans = [p for p in own if p.orphaned and p.age_s > policy.claude_orphan_warn_hours * 3600]
    orphans = [p for p in own if p.orphaned]
    ends = "\n".join(f"  kill {p.pid}    # {age(p.age_s)} old, {p.size / MIB:.0f} MiB, orphaned" for p in orphans)
    advice = (
        "Leftover sessions pile up (one report: 23 idle sessions, 19.5 GB on a 16 GB machine) until the OS kills "
        "the one you are using. End the ones you no longer need (claude-preflight never kills anything)"
        + (f"; these are orphaned (no parent, no terminal):\n{ends}" if ends else ":\n  kill <pid>")
    )
    findings = []
    if mem and rss > policy.claude_rss_fail_percent / 100 * mem.total:
        findings.append(
            Finding(
                Status.FAIL,
                f"your Claude Code processes use {gib(rss)}, over {policy.claude_rss_fail_percent:g}% of RAM",
                advice,
            )
        )
    if len(own) > policy.claude_process_warn_count:
        findings.append(
            Finding(
                Status.WARN,
                f"{len(own)} Claude Code processes of yours are running (over {policy.claude_process_warn_count})",
                advice,
            )
        )
    if old_orphans:
        findings.append(
            Finding(
                Status.WARN,
                f"{len(old_orphans)} orphaned session(s) older than {policy.claude_orphan_warn_hours:g} h",
                advice,
            )
        )
    return combine(findings, evidence, f"{len(own)} Claude Code process(es) of yours, {gib(rss)}", DOCS)


def evaluate_killed_sessions(
    stale: list[RegistryEntry], ungraceful: list[UngracefulProject], live_cwds: set[str]
) -> Result:
    lost = [p for p in ungraceful if p.directory not in live_cwds]
    if not stale and not lost:
        return ok("no session was killed without a clean exit")
    evidence, steps = [], []
    for entry in stale:
        when = local_time(entry.started_at_ms)
        why = "its process is gone" if entry.live_start is None else "its pid now belongs to another process"
        evidence.append(
            f"{entry.file}: session {entry.session_id} in {entry.cwd}, started {when}, pid {entry.pid}: {why}"
        )
        steps.append(f"  cd '{entry.cwd}' && claude --resume {entry.session_id}")
    for project in lost:
        evidence.append(
            f"~/.claude.json: projects[{project.directory}].lastGracefulShutdown is false "
            f"(last session {project.last_session_id}) and no session runs there"
        )
        if project.last_session_id:
            steps.append(f"  cd '{project.directory}' && claude --resume {project.last_session_id}")
    cleanup = "\n".join(f"  rm '{entry.file}'" for entry in stale)
    return warn(
        f"{len(stale) + len(lost)} session(s) ended without a clean exit (SIGKILL, usually an OOM kill)",
        *evidence,
        remediation="A session killed with SIGKILL (usually by the OOM killer) leaves its registry entry behind and "
        "may be missing from `claude --resume`'s list. Resume each by id:\n"
        + "\n".join(dict.fromkeys(steps))
        + (f"\nThen remove the stale registry entries:\n{cleanup}" if cleanup else ""),
        docs=DOCS,
    )


# -- macOS: memory pressure and jetsam ---------------------------------------------------------------------------------
JETSAM = (
    "On macOS the kernel's jetsam kills processes without a word when memory runs short (a JetsamEvent report in "
    "/Library/Logs/DiagnosticReports); the session vanishes and `--resume` may not find it."
)
MAC_BIGGEST = (
    "Find the biggest processes (footprint, as jetsam counts) with:\n  top -l 1 -o mem -n 10 -stats pid,command,mem"
)
PRESSURE_LEVELS = {1: "normal", 2: "warn", 4: "critical"}


def evaluate_headroom_mac(m: MacMemory, policy: Policy) -> Result:
    if m.total is None and m.pressure_level is None and m.free_percent is None:
        return skip("no memory figures here (sysctl and memory_pressure did not answer)")
    evidence = []
    if m.total:
        evidence.append(f"hw.memsize: {gib(m.total)}")
    if m.pressure_level is not None:
        name = PRESSURE_LEVELS.get(m.pressure_level, "unknown")
        evidence.append(f"kern.memorystatus_vm_pressure_level: {m.pressure_level} ({name})")
    if m.free_percent is not None:
        evidence.append(f"memory_pressure -Q: system-wide memory free percentage {m.free_percent}%")
    if m.pages and m.page_size:
        shown = ("free", "active", "inactive", "wired down", "occupied by compressor")
        figures = ", ".join(f"{k} {gib(m.pages[k] * m.page_size)}" for k in shown if k in m.pages)
        evidence.append(f"vm_stat (page size {m.page_size}): {figures}")
    if m.swap_total is not None:
        evidence.append(
            f"vm.swapusage: {gib(m.swap_used or 0)} used of {gib(m.swap_total)} (macOS grows swap on "
            "demand: its size is not judged)"
        )
    close = "Close other memory-hungry programs (browsers, IDEs, simulators, VMs) and other Claude Code sessions. "
    findings = []
    if m.pressure_level == 4:
        findings.append(
            Finding(
                Status.FAIL,
                "memory pressure is critical (kern.memorystatus_vm_pressure_level 4)",
                f"{JETSAM} At this level jetsam is already killing processes. {close}{MAC_BIGGEST}",
            )
        )
    elif m.pressure_level == 2:
        findings.append(
            Finding(
                Status.WARN,
                "memory pressure is at warn (kern.memorystatus_vm_pressure_level 2)",
                f"{JETSAM} {close}{MAC_BIGGEST}",
            )
        )
    if m.free_percent is not None and m.free_percent < policy.mac_free_warn_percent and m.pressure_level != 4:
        findings.append(
            Finding(
                Status.WARN,
                f"only {m.free_percent}% of memory is free system-wide (under {policy.mac_free_warn_percent:g}%)",
                f"{JETSAM} {close}{MAC_BIGGEST}",
            )
        )
    if m.total and m.total < policy.mem_total_warn_gib * GIB:
        findings.append(
            Finding(
                Status.WARN,
                f"{gib(m.total)} of RAM (under {policy.mem_total_warn_gib:g} GiB)",
                "On a small Mac keep sessions short (/compact, or a fresh session) and run one at a time.",
            )
        )
    level = PRESSURE_LEVELS.get(m.pressure_level or 0, "unknown")
    free = f", {m.free_percent}% free" if m.free_percent is not None else ""
    return combine(findings, evidence, f"memory pressure {level}{free}", DOCS)


def evaluate_jetsam(o: MacOom) -> Result:
    evidence = [f"JetsamEvent reports in {' and '.join(o.directories)}: {len(o.reports)}"]
    for report in o.reports[-5:]:
        many = (
            f", {report.claude_count} Claude Code process(es) in it, {gib(report.claude_footprint)}"
            if report.claude_count
            else ""
        )
        evidence.append(f"{report.path} ({report.when}): largest process {report.largest or '?'}{many}")
    for kill in o.claude_kills[-10:]:
        largest = ", the largest process" if kill.largest else ""
        evidence.append(
            f"jetsam killed {kill.name} (pid {kill.pid}) at {kill.when}: {kill.reason}, footprint "
            f"{gib(kill.footprint)}{largest}"
        )
    if o.log_source:
        evidence.append(
            f"unified log, last day (log show): {len(o.log_claude_lines)} Claude Code kill(s), "
            f"{o.log_other_kills} other(s)"
        )
        evidence += list(o.log_claude_lines[-5:])
    else:
        evidence.append(f"unified log not read: {o.log_error}")
    resume = "Lost sessions can often be resumed:\n  claude --resume"
    if o.claude_kills or o.log_claude_lines:
        count = len(o.claude_kills) + len(o.log_claude_lines)
        return fail(
            f"jetsam killed Claude Code {count} time(s)",
            *evidence,
            remediation=f"{JETSAM} End leftover Claude Code sessions (see memory.claude-processes), close "
            f"other big programs and keep sessions shorter. {MAC_BIGGEST}\n{resume}",
            docs=DOCS,
        )
    blamed = [r for r in o.reports if r.largest and is_claude_name(r.largest)]
    if blamed:
        # Not killed itself (a warn), but the biggest process when memory ran out: the next event may take it.
        return warn(
            f"{len(blamed)} jetsam event(s) name Claude Code as the largest process",
            *evidence,
            remediation=f"{JETSAM} Claude Code was the biggest process when memory ran out. End leftover "
            f"sessions and keep sessions shorter. {MAC_BIGGEST}\n{resume}",
            docs=DOCS,
        )
    if o.reports or o.other_kills or o.log_other_kills:
        return warn(
            f"this Mac ran out of memory {len(o.reports)} time(s) (jetsam events; none killed Claude Code)",
            *evidence,
            remediation=f"Claude Code may be next. {JETSAM} {MAC_BIGGEST}",
            docs=DOCS,
        )
    if o.unreadable:
        return skip(
            f"{len(o.unreadable)} jetsam report(s) could not be read",
            *evidence,
            *(f"not readable: {path}" for path in o.unreadable[-5:]),
            "they are readable by administrators: run claude-preflight from an admin account to judge them",
        )
    if not o.log_source and not o.reports:
        return ok("no jetsam report on this Mac", *evidence)
    return ok("no jetsam kill", *evidence)
