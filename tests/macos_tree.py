"""A Mac played on Linux: a --sysroot tree with stand-in executables that print recorded real macOS outputs and exit
with the real codes (`--platform darwin --sysroot S`).

Nobody here has a Mac. Every recorded output below names its public source; where a source shows only part of an
output, or the values are ours in the real format, the comment says so. The case directories under
tests/cases/<check>/darwin-*/ hold the same stand-ins (written by `python tests/macos_tree.py`), and
tests/test_macos.py builds whole Macs (healthy and damaged) from these pieces.
"""

from __future__ import annotations

import json
import os
import shlex
import stat
import time
from pathlib import Path

# -- sysctl ------------------------------------------------------------------------------------------------------------
# Lines are sysctl's own `name: value` format. Verbatim from the sources:
#   kern.memorystatus_vm_pressure_level: 1 / 4  https://super-unix.com/askdifferent/macos-how-is-the-y-value-for-the-memory-pressure-graph-in-activity-monitor-calculated/
#   vm.swapusage: total = 4096.00M  used = 2743.50M  free = 1352.50M  (encrypted)  https://github.com/walles/px/issues/80
#   sysctl.proc_translated: 0 / 1  https://github.com/Homebrew/brew/pull/9252
# hw.memsize, kern.maxfiles*, hw.optional.*, machdep.cpu.brand_string: values ours, in the same format. An oid the Mac
# does not have goes to stderr as "sysctl: unknown oid '...'" (https://github.com/rust-lang/rustup/pull/3438 deals
# with exactly that stderr) and the command still prints the others.
SYSCTL_APPLE_SILICON = {
    "hw.memsize": "17179869184",
    "hw.pagesize": "16384",
    "kern.memorystatus_vm_pressure_level": "1",
    "vm.swapusage": "total = 4096.00M  used = 2743.50M  free = 1352.50M  (encrypted)",
    "kern.maxfiles": "245760",
    "kern.maxfilesperproc": "122880",
    "hw.optional.arm64": "1",
    "sysctl.proc_translated": "0",
    "machdep.cpu.brand_string": "Apple M1 Pro",
}
SYSCTL_INTEL_NO_AVX = {
    "hw.memsize": "8589934592",
    "hw.pagesize": "4096",
    "kern.memorystatus_vm_pressure_level": "1",
    "vm.swapusage": "total = 1024.00M  used = 379.25M  free = 644.75M  (encrypted)",  # Powerlevel9k/powerlevel9k#1108
    "kern.maxfiles": "49152",
    "kern.maxfilesperproc": "24576",
    "hw.optional.avx1_0": "0",
    "hw.optional.avx2_0": "0",
    "machdep.cpu.brand_string": "Intel(R) Core(TM)2 Duo CPU     P8600  @ 2.40GHz",
}

# -- vm_stat ------------------------------------------------------------------------------------------------------------
# The first 17 lines of a real Apple Silicon `vm_stat` (the source shows no more): https://github.com/HMCL-dev/HMCL/pull/4876
VM_STAT = """\
Mach Virtual Memory Statistics: (page size of 16384 bytes)
Pages free:                                3857.
Pages active:                            446206.
Pages inactive:                          443760.
Pages speculative:                         1075.
Pages throttled:                              0.
Pages wired down:                        181483.
Pages purgeable:                          17340.
"Translation faults":                8667427138.
Pages copy-on-write:                  156847509.
Pages zero filled:                   4902315421.
Pages reactivated:                    586001636.
Pages purged:                         174538344.
File-backed pages:                       294894.
Anonymous pages:                         596147.
Pages stored in compressor:             1943619.
Pages occupied by compressor:            442179.
"""


# -- memory_pressure -Q -------------------------------------------------------------------------------------------------
# "System-wide memory free percentage: 66%": https://github.com/exelban/stats/issues/3159 (the other figures: ours).
def memory_pressure(percent: int) -> str:
    return f"System-wide memory free percentage: {percent}%\n"


# -- launchctl limit maxfiles --------------------------------------------------------------------------------------------
# Verbatim (a tab, then the columns): https://github.com/skypilot-org/skypilot/issues/4836 and
# https://github.com/manaflow-ai/cmux/issues/2269 ("maxfiles    256            unlimited").
def launchctl_maxfiles(soft: str, hard: str = "unlimited") -> str:
    return f"\tmaxfiles    {soft:<15}{hard}\n"


# -- security ------------------------------------------------------------------------------------------------------------
# Not found: the message from https://github.com/anthropics/claude-code/issues/1552 ("security:
# SecKeychainSearchCopyNext: The specified item could not be found in the keychain."), exit 44: errSecItemNotFound
# (-25300) & 0xff, the code Claude Code 2.1.330 itself tests for (`var j=44`, `p=[44,36]` in its binary).
# Locked: exit 36 = errSecInteractionNotAllowed (-25308) & 0xff, the other code in Claude Code's list; the message
# "User interaction is not allowed." as security prints it: https://github.com/docker/docker-credential-helpers/pull/193
# Found: the item is one line of JSON {"claudeAiOauth":...} (https://github.com/anthropics/claude-code/issues/29783),
# with accessToken sk-ant-oat01-..., refreshToken sk-ant-ort01-..., expiresAt (ms) as documented in
# https://github.com/pgagarinov/awesome-claude-code docs/35-oauth-token-storage.md. The tokens here are fake.
NOT_FOUND = "security: SecKeychainSearchCopyNext: The specified item could not be found in the keychain."
LOCKED = "security: SecKeychainSearchCopyNext: User interaction is not allowed."
FAKE_ACCESS = "sk-ant-oat01-MACKEYCHAINfakeACCESStoken-0000000000000000-AAAA"
FAKE_REFRESH = "sk-ant-ort01-MACKEYCHAINfakeREFRESHtoken-000000000000000-BBBB"
LOGIN_ITEM = json.dumps(
    {"claudeAiOauth": {"accessToken": FAKE_ACCESS, "refreshToken": FAKE_REFRESH, "expiresAt": 4102444800000,
                       "scopes": ["user:inference", "user:profile"], "subscriptionType": "max"}},
    separators=(",", ":"),
)  # fmt: skip


def security(items: dict[str, str] | None = None, locked: bool = False) -> str:
    """A stand-in for /usr/bin/security: find-generic-password -s SERVICE -a ACCOUNT -w answers from `items`, keyed
    by "SERVICE" (any account) or "SERVICE/ACCOUNT"."""
    items = items or {}
    cases = "\n".join(f"  {shlex.quote(key if '/' in key else key + '/')}*) printf '%s\\n' {shlex.quote(secret)}; exit 0;;"
                      for key, secret in items.items())  # fmt: skip
    if locked:
        miss = f"printf '%s\\n' {shlex.quote(LOCKED)} >&2; exit 36"
    else:
        miss = f"printf '%s\\n' {shlex.quote(NOT_FOUND)} >&2; exit 44"
    return f"""#!/bin/sh
# Stand-in for macOS /usr/bin/security (find-generic-password -s S -a A -w). Sources: see tests/macos_tree.py
# ({NOT_FOUND!r}: anthropics/claude-code#1552; exit 44/36: Claude Code 2.1.330's own list).
[ "$1" = find-generic-password ] || {{ echo "security: unexpected $1" >&2; exit 1; }}
service="" account=""
while [ $# -gt 0 ]; do
  [ "$1" = -s ] && service="$2"
  [ "$1" = -a ] && account="$2"
  shift
done
case "$service/$account" in
{cases}
esac
{miss}
"""


# -- jetsam ----------------------------------------------------------------------------------------------------------------
# A JetsamEvent .ips: a one-line JSON header, then the JSON body. Field names and shapes from real reports:
# header and body top level https://github.com/jundot/omlx/issues/702 (bug_type 298, timestamp, os_version,
# largestProcess, memoryStatus.pageSize 16384); process entries https://github.com/immich-app/immich/issues/12471
# (states, rpages, name, pid, reason vm-pageshortage, killDelta, lifetimeMax); the native Claude Code listed under its
# version with ~34 GB (largestProcess "2.1.37", pid 6056): https://github.com/anthropics/claude-code/issues/24583.
# Figures not in the excerpts (compressor, other processes) are ours.
def jetsam_report(when: str, killed_claude: bool, claude_sessions: int = 7) -> str:
    header = {"bug_type": "298", "timestamp": when, "os_version": "macOS 15.6.1 (24G90)",
              "incident_id": "3F1C2B7E-9A44-4C1D-8E2F-0B6D5A7C9E11"}  # fmt: skip
    processes = []
    for n in range(claude_sessions):
        entry = {"states": ["daemon"], "rpages": 2073577 if n == 0 else 20000, "name": "2.1.37", "pid": 6056 + n,
                 "lifetimeMax": 2226806 if n == 0 else 30000, "fds": 120, "cpuTime": 812.4}  # fmt: skip
        if n == 0 and killed_claude:
            entry.update({"reason": "vm-pageshortage", "killDelta": 13593})
        processes.append(entry)
    processes.append({"states": ["daemon", "idle"], "rpages": 1126, "name": "maild", "pid": 8866,
                      "reason": "vm-pageshortage", "killDelta": 2942585, "lifetimeMax": 1589})  # fmt: skip
    body = {"crashReporterKey": "945b3898f1ba1484f608fdb1ea4886c7966d48ef", "largestProcess": "2.1.37",
            "memoryStatus": {"compressorSize": 541951, "pageSize": 16384,
                             "memoryPages": {"free": 4275, "active": 179186, "anonymous": 225891}},
            "processes": processes}  # fmt: skip
    return json.dumps(header, separators=(",", ":")) + "\n" + json.dumps(body, indent=2) + "\n"


def jetsam_report_others(when: str) -> str:
    header = {"bug_type": "298", "timestamp": when, "os_version": "macOS 15.6.1 (24G90)"}
    body = {"largestProcess": "com.apple.Virtualization.Virtual", "memoryStatus": {"pageSize": 16384},
            "processes": [{"name": "com.apple.Virtualization.Virtual", "pid": 901, "rpages": 900000},
                          {"name": "Google Chrome Helper (Renderer)", "pid": 902, "rpages": 40000,
                           "reason": "vm-pageshortage", "killDelta": 100}]}  # fmt: skip
    # largestProcess com.apple.Virtualization.Virtual: https://github.com/anthropics/claude-code/issues/23334
    return json.dumps(header, separators=(",", ":")) + "\n" + json.dumps(body, indent=2) + "\n"


# -- a code-signature kill ---------------------------------------------------------------------------------------------------
# The body's fields verbatim from https://github.com/anthropics/claude-code/issues/50618 (2.1.114, "SIGKILL (Code
# Signature Invalid)", namespace CODESIGNING, "Taskgated Invalid Signature"); ReportCrash files it as a 309 report
# (same issue's kernel log: "Formulating fatal 309 report for corpse[23468] 2.1.114"). The header line is ours.
CODESIGN_IPS = (
    json.dumps({"app_name": "2.1.114", "timestamp": "2026-04-19 09:30:24.00 +0200", "bug_type": "309",
                "name": "2.1.114"}, separators=(",", ":")) + "\n" +
    json.dumps({"osVersion": {"train": "macOS 26.4.1", "build": "25E253", "releaseType": "User"},
                "modelCode": "Mac17,2", "procName": "2.1.114", "procPath": "/Users/USER/*/2.1.114",
                "parentProc": "zsh", "responsibleProc": "Terminal", "codeSigningMonitor": 2,
                "codeSigningFlags": 16777728, "codeSigningTrustLevel": 4294967295,
                "exception": {"type": "EXC_CRASH", "signal": "SIGKILL (Code Signature Invalid)"},
                "termination": {"flags": 66, "code": 1, "namespace": "CODESIGNING",
                                "indicator": "Taskgated Invalid Signature"},
                "sip": "enabled", "developerMode": 1, "translated": False}, indent=2) + "\n"
)  # fmt: skip
# `claude --version` killed that way: `zsh: killed claude`, exit 137 (https://github.com/anthropics/claude-code/issues/28903):
# the stand-in kills itself with SIGKILL, as the kernel does at exec.
SIGKILLED_CLAUDE = (
    "#!/bin/sh\n# Stand-in: macOS kills this binary at exec (anthropics/claude-code#28903, exit 137)\nkill -9 $$\n"
)


def claude_binary(version: str) -> str:
    return f"#!/bin/sh\n# Stand-in for the native claude binary: --version as 2.1.x prints it\necho '{version} (Claude Code)'\n"


# -- log show ----------------------------------------------------------------------------------------------------------------
# `log show --style syslog` lines; the "memorystatus: killing_specific_process pid N [name] ..." form from a real kernel
# log: https://github.com/getlantern/radiance/pull/595. The header line is log's own ("Filtering the log data using ...").
def log_show(lines: list[str]) -> str:
    predicate = 'eventMessage CONTAINS "memorystatus: killing"'
    return (
        "\n".join(
            [
                f'Filtering the log data using "{predicate}"',
                "Skipping info and debug messages, pass --info and/or --debug to include.",
                "Timestamp                       (process)[PID]",
                *lines,
            ]
        )
        + "\n"
    )


JETSAM_LOG_CLAUDE = ("2026-11-30 11:37:47.212418+0900  localhost kernel[0]: (Sandbox) memorystatus: killing_specific_process "
                     "pid 6056 [2.1.37] (vm-pageshortage 0) 34792148KB - memorystatus_available_pages: 4275")  # fmt: skip


# -- ps ------------------------------------------------------------------------------------------------------------------------
# `LC_ALL=C TZ=UTC ps -axo pid=,ppid=,uid=,rss=,tty=,lstart=,comm=` and `ps -axo pid=,args=`. lstart is the text Claude
# Code itself records as procStart on macOS (`LC_ALL=C TZ=UTC ps -o lstart= -p <pid>` in its 2.1.330 binary); comm is the
# executable's path, args the command line. The rows are ours.
def lstart(when: float) -> str:
    stamp = time.gmtime(when)
    return time.strftime(f"%a %b {stamp.tm_mday:2d} %H:%M:%S %Y", stamp)


def ps(rows: list[tuple[int, int, int, int, str, float, str, str]]) -> str:
    """rows: (pid, ppid, uid, rss KiB, tty, start, comm, args)."""
    table = "\n".join(f"{pid:5d} {ppid:5d} {uid:5d} {rss:8d} {tty:<8} {lstart(start)} {comm}"
                      for pid, ppid, uid, rss, tty, start, comm, _ in rows)  # fmt: skip
    args = "\n".join(f"{pid:5d} {argv}" for pid, _, _, _, _, _, _, argv in rows)
    return f"""#!/bin/sh
# Stand-in for macOS ps (see tests/macos_tree.py for the columns and their source). Builtins only: no PATH needed.
case "$*" in
  *args=*) printf '%s\\n' {shlex.quote(args)} ;;
  *) printf '%s\\n' {shlex.quote(table)} ;;
esac
"""


# -- top -l 1 -stats pid,mem ----------------------------------------------------------------------------------------------
# MEM is the physical footprint (what Activity Monitor's Memory column and jetsam count), left-aligned in five
# characters: `12M  `, `859M `, `1314M` - captured on a real Mac, with 8 claude processes measured against footprint(1):
# idle sessions' footprint is 1.84-2.20x their RSS (https://github.com/eneskirca/nodeterm/pull/139). The banner lines
# (Processes:, Load Avg:, PhysMem: ...) and the `PID    MEM` header follow the same PR's description; the figures are ours.
def top(footprints: dict[int, str]) -> str:
    rows = "\n".join(f"{pid:<7d}{mem:<5s}" for pid, mem in footprints.items())
    banner = ("Processes: 619 total, 3 running, 616 sleeping, 3021 threads\n2026/11/30 11:30:00\n"
              "Load Avg: 3.42, 4.10, 4.55\nPhysMem: 15G used (2410M wired), 380M unused.\n\nPID    MEM\n")  # fmt: skip
    return banner + rows + "\n"


# -- writing a tree ------------------------------------------------------------------------------------------------------------
def standin(path: Path, stdout: str = "", stderr: str = "", code: int = 0, source: str = "") -> None:
    """An executable that prints recorded output and exits with the recorded code."""
    path.parent.mkdir(parents=True, exist_ok=True)
    parts = ["#!/bin/sh", f"# Stand-in for macOS {path.name}: {source or 'see tests/macos_tree.py'}"]
    # printf is a shell builtin: a stand-in must not need PATH (a Mac's PATH here holds only stand-ins)
    if stdout:
        parts.append(f"printf '%s' {shlex.quote(stdout)}")
    if stderr:
        parts.append(f"printf '%s' {shlex.quote(stderr)} >&2")
    parts.append(f"exit {code}")
    write_executable(path, "\n".join(parts) + "\n")


def write_executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def sysctl(sysroot: Path, values: dict[str, str]) -> None:
    from claude_preflight.probes.macos import SYSCTL_NAMES

    out = "".join(f"{k}: {values[k]}\n" for k in SYSCTL_NAMES if k in values)
    err = "".join(f"sysctl: unknown oid '{k}'\n" for k in SYSCTL_NAMES if k not in values)
    standin(sysroot / "usr/sbin/sysctl", out, err, 1 if err else 0, "recorded lines and sources in tests/macos_tree.py")


def memory(
    sysroot: Path, pressure: int = 1, free: int = 66, swap: str | None = None, values: dict | None = None
) -> None:
    values = {**(values or SYSCTL_APPLE_SILICON), "kern.memorystatus_vm_pressure_level": str(pressure)}
    if swap:
        values["vm.swapusage"] = swap
    sysctl(sysroot, values)
    standin(sysroot / "usr/bin/memory_pressure", memory_pressure(free), source="exelban/stats#3159")
    standin(sysroot / "usr/bin/vm_stat", VM_STAT, source="HMCL-dev/HMCL#4876")


def unified_log(sysroot: Path, lines: list[str]) -> None:
    standin(sysroot / "usr/bin/log", log_show(lines), source="getlantern/radiance#595 (the killing line)")


def launchctl(sysroot: Path, soft: str, hard: str = "unlimited") -> None:
    standin(sysroot / "bin/launchctl", launchctl_maxfiles(soft, hard), source="skypilot-org/skypilot#4836")


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def session_entry(config_dir: Path, pid: int, session_id: str, cwd: str, started: float, proc_start: str) -> None:
    write(config_dir / "sessions" / f"{pid}.json", json.dumps({
        "pid": pid, "sessionId": session_id, "cwd": cwd, "startedAt": int(started * 1000), "procStart": proc_start,
        "kind": "interactive"}))  # fmt: skip


def os_environ_path(sysroot: Path, home: Path) -> str:
    """A Mac's PATH, mapped under the sysroot (Homebrew first, then the system), with ~/.local/bin."""
    dirs = [sysroot / "opt/homebrew/bin", home / ".local/bin", sysroot / "usr/bin", sysroot / "bin"]
    return os.pathsep.join(str(d) for d in dirs)


# -- the case directories (tests/cases/<check>/darwin-*/), written by `python tests/macos_tree.py` ----------------------------
NOW = time.time()
DAY = 86400.0
MAC_PATH = "{root}/sysroot/opt/homebrew/bin:{root}/home/.local/bin:{root}/sysroot/usr/bin:{root}/sysroot/bin"


def _case(
    check: str,
    name: str,
    expect: dict,
    comment: str,
    env: dict | None = None,
    setup: list | None = None,
    user: str | None = None,
) -> Path:
    root = Path(__file__).parent / "cases" / check / name
    spec = {"comment": comment, "platform": "darwin", "env": {"PATH": MAC_PATH, "USER": "dev", **(env or {})}}
    if setup:
        spec["setup"] = setup
    if user:
        spec["user"] = user
    spec["expect"] = expect
    write(root / "case.json", json.dumps(spec, indent=1) + "\n")
    return root


def _fresh(path: str) -> dict:
    """Reports count when recent (recent_session_days): a checkout's mtime is not the report's age."""
    return {"op": "age", "path": path, "days": 0.01}


def ps_rows(sessions: int, orphaned: bool = True) -> list:
    rows = [(1, 0, 0, 12000, "??", NOW - 40 * DAY, "/sbin/launchd", "/sbin/launchd")]
    rows.append((900, 1, 0, 8000, "ttys001", NOW - 2 * DAY, "/bin/zsh", "-zsh"))
    for n in range(sessions):
        parent, tty = (1, "??") if orphaned else (900, "ttys001")
        rows.append((4242 + n, parent, 0, 420_000, tty, NOW - 3 * DAY - n * 60,
                     "/Users/dev/.local/share/claude/versions/2.1.37", "claude --dangerously-skip-permissions"))  # fmt: skip
    return rows


def write_cases() -> None:
    # memory.headroom
    for name, pressure, free, status, words, comment in (
        (
            "darwin-normal",
            1,
            66,
            "ok",
            ["memory pressure normal, 66% free", "not judged", "hw.memsize: 16.0 GiB"],
            "A healthy Apple Silicon Mac: pressure level 1, 66% free; swap 67% used is how macOS works, not a warning.",
        ),
        (
            "darwin-warn",
            2,
            45,
            "warn",
            ["memory pressure is at warn", "top -l 1 -o mem"],
            "kern.memorystatus_vm_pressure_level 2: jetsam is near.",
        ),
        (
            "darwin-critical",
            4,
            8,
            "fail",
            ["memory pressure is critical", "jetsam is already killing"],
            "kern.memorystatus_vm_pressure_level 4 (critical), 8% free.",
        ),
        (
            "darwin-low-free-percent",
            1,
            12,
            "warn",
            ["only 12% of memory is free system-wide (under 20%)"],
            "Pressure still normal but memory_pressure -Q reports 12% free.",
        ),
    ):
        root = _case("memory.headroom", name, {"-": {"status": status, "words": words}}, comment)
        memory(root / "sysroot", pressure, free)
    # memory.oom-kills
    root = _case("memory.oom-kills", "darwin-jetsam-killed-claude",
                 {"-": {"status": "fail", "words": ["jetsam killed Claude Code 1 time(s)", "2.1.37 (pid 6056)",
                                                    "vm-pageshortage", "largest process 2.1.37", "claude --resume"]}},
                 "A JetsamEvent report in /Library/Logs/DiagnosticReports kills the native Claude Code (listed under "
                 "its version), and the unified log has jetsam's own line for it.",
                 setup=[_fresh("sysroot/Library/Logs/DiagnosticReports/JetsamEvent-2026-11-30-113747.ips")])  # fmt: skip
    write(
        root / "sysroot/Library/Logs/DiagnosticReports/JetsamEvent-2026-11-30-113747.ips",
        jetsam_report("2026-11-30 11:37:47.00 +0900", killed_claude=True),
    )
    unified_log(root / "sysroot", [JETSAM_LOG_CLAUDE])
    root = _case(
        "memory.oom-kills",
        "darwin-others-killed-in-home-reports",
        {"-": {"status": "warn", "words": ["ran out of memory 1 time(s)", "none killed Claude Code"]}},
        "A jetsam event in ~/Library/Logs/DiagnosticReports that killed a browser renderer, not Claude Code.",
        setup=[_fresh("home/Library/Logs/DiagnosticReports/JetsamEvent-2026-11-29-220357.ips")],
    )
    write(
        root / "home/Library/Logs/DiagnosticReports/JetsamEvent-2026-11-29-220357.ips",
        jetsam_report_others("2026-11-29 22:03:57.00 +0800"),
    )
    unified_log(root / "sysroot", [])
    root = _case("memory.oom-kills", "darwin-claude-largest-not-killed",
                 {"-": {"status": "warn", "words": ["1 jetsam event(s) name Claude Code as the largest process",
                                                    "7 Claude Code process(es) in it"]}},
                 "Jetsam killed maild, not Claude Code, but the native Claude Code (2.1.37) was the largest process "
                 "(anthropics/claude-code#24583: 34 GB on an 18 GB Mac).",
                 setup=[_fresh("sysroot/Library/Logs/DiagnosticReports/JetsamEvent-2026-11-30-115210.ips")])  # fmt: skip
    write(
        root / "sysroot/Library/Logs/DiagnosticReports/JetsamEvent-2026-11-30-115210.ips",
        jetsam_report("2026-11-30 11:52:10.00 +0900", killed_claude=False),
    )
    unified_log(root / "sysroot", [])
    report = "sysroot/Library/Logs/DiagnosticReports/JetsamEvent-2026-11-30-120000.ips"
    _case("memory.oom-kills", "darwin-report-not-readable",
          {"-": {"status": "skip", "words": ["1 jetsam report(s) could not be read", "JetsamEvent-2026-11-30-120000.ips"]}},
          "A JetsamEvent report this user cannot read (another owner, mode 0640): not an all-clear.",
          user="unprivileged",
          setup=[{"op": "write", "path": report, "text": "{}"}, _fresh(report),
                 {"op": "chown", "path": report, "owner": "root"}, {"op": "chmod", "path": report, "mode": "640"}])  # fmt: skip
    root = _case(
        "memory.oom-kills",
        "darwin-none",
        {"-": {"status": "ok", "words": ["no jetsam kill", "0 Claude Code kill(s)"]}},
        "No JetsamEvent report; the unified log has no memorystatus kill for the last day.",
    )
    unified_log(root / "sysroot", [])
    # memory.claude-processes
    root = _case("memory.claude-processes", "darwin-orphans",
                 {"-": {"status": "warn", "words": ["4 orphaned session(s) older than 24 h", "kill 4242", "kill 4245",
                                                    "footprint 859 MiB (RSS 410 MiB)", "physical footprint (top's MEM",
                                                    "3.4 GiB of 16.0 GiB RAM"]}},
                 "Four native sessions (comm 2.1.37) adopted by launchd with no terminal, read through the ps stand-in.")  # fmt: skip
    write_executable(root / "sysroot/bin/ps", ps(ps_rows(4)))
    standin(root / "sysroot/usr/bin/top", top({n: "859M" for n in range(4242, 4246)}), source="eneskirca/nodeterm#139")
    memory(root / "sysroot")
    # memory.killed-sessions
    rows = ps_rows(1, orphaned=False)
    rows.append((5151, 1, 0, 90_000, "??", NOW - 1 * DAY, "/Applications/Safari.app/Contents/MacOS/Safari", "Safari"))
    root = _case("memory.killed-sessions", "darwin-pid-reused",
                 {"-": {"status": "warn", "words": ["2 session(s) ended without a clean exit",
                                                    "its pid now belongs to another process", "its process is gone",
                                                    "claude --resume 0b5c5e1e-0000-4000-8000-000000005151"]}},
                 "Claude Code on macOS records procStart as `LC_ALL=C TZ=UTC ps -o lstart=`: 4242 still runs with that "
                 "start; 5151 now belongs to Safari (started later); 6161 is gone.")  # fmt: skip
    write_executable(root / "sysroot/bin/ps", ps(rows))
    config = root / "home/.claude"
    session_entry(
        config, 4242, "0b5c5e1e-0000-4000-8000-000000004242", "/Users/dev/app", NOW - 3 * DAY, lstart(NOW - 3 * DAY)
    )
    session_entry(
        config, 5151, "0b5c5e1e-0000-4000-8000-000000005151", "/Users/dev/api", NOW - 5 * DAY, lstart(NOW - 5 * DAY)
    )
    session_entry(
        config, 6161, "0b5c5e1e-0000-4000-8000-000000006161", "/Users/dev/web", NOW - 6 * DAY, lstart(NOW - 6 * DAY)
    )
    # install.os-limits
    root = _case("install.os-limits", "darwin-maxfiles-256",
                 {"-": {"status": "warn", "words": ["open-file limit is 256 (under 4096)", "launchctl limit maxfiles",
                                                    "~/.zshrc"]}},
                 "launchd's default soft limit (256) for a terminal started from the Dock.")  # fmt: skip
    launchctl(root / "sysroot", "256")
    sysctl(root / "sysroot", SYSCTL_APPLE_SILICON)
    root = _case(
        "install.os-limits",
        "darwin-raised",
        {"-": {"status": "ok", "words": ["kern.maxfilesperproc = 122880", "soft 65536"]}},
        "maxfiles raised with a LaunchDaemon (launchctl limit maxfiles 65536 200000).",
    )
    launchctl(root / "sysroot", "65536", "200000")
    sysctl(root / "sysroot", SYSCTL_APPLE_SILICON)
    # install.cpu
    root = _case(
        "install.cpu",
        "darwin-apple-silicon",
        {"-": {"status": "ok", "words": ["Apple Silicon", "Apple M1 Pro"]}},
        "hw.optional.arm64 = 1; no AVX oids (sysctl says unknown oid).",
    )
    sysctl(root / "sysroot", SYSCTL_APPLE_SILICON)
    root = _case(
        "install.cpu",
        "darwin-intel-without-avx",
        {"-": {"status": "fail", "words": ["no AVX", "illegal hardware instruction", "hw.optional.avx1_0 = 0"]}},
        "An Intel Core 2 Mac: hw.optional.avx1_0 and avx2_0 are 0.",
    )
    sysctl(root / "sysroot", SYSCTL_INTEL_NO_AVX)
    root = _case(
        "install.cpu",
        "darwin-rosetta-shell",
        {"-": {"status": "warn", "words": ["runs under Rosetta", "sysctl.proc_translated = 1"]}},
        "A terminal opened with 'Open using Rosetta': sysctl.proc_translated is 1.",
    )
    sysctl(root / "sysroot", {**SYSCTL_APPLE_SILICON, "sysctl.proc_translated": "1"})
    mach_o = "\xcf\xfa\xed\xfe\x07\x00\x00\x01\x03\x00\x00\x00"  # MH_MAGIC_64, CPU_TYPE_X86_64 (mach/machine.h)
    _case("install.cpu", "darwin-intel-build-under-rosetta",
          {"-": {"status": "warn", "words": ["Intel (x86_64) build running under Rosetta", "Mach-O x86_64"]}},
          "An x86_64 claude (the Intel build, e.g. from an Intel Homebrew in /usr/local) on Apple Silicon: the first "
          "bytes of the binary are a 64-bit Mach-O header for CPU_TYPE_X86_64.",
          setup=[{"op": "write", "path": "home/.local/bin/claude", "latin1": mach_o},
                 {"op": "chmod", "path": "home/.local/bin/claude", "mode": "755"}])  # fmt: skip
    sysctl(Path(__file__).parent / "cases/install.cpu/darwin-intel-build-under-rosetta/sysroot", SYSCTL_APPLE_SILICON)
    # install.claude
    root = _case("install.claude", "darwin-codesign-killed",
                 {"-": {"status": "fail", "words": ["SIGKILL (Code Signature Invalid)", "1 report(s)", "run a copy",
                                                    "95396"]}},
                 "~/.local/bin/claude -> versions/2.1.114 is killed at exec (exit 137) and a crash report in "
                 "~/Library/Logs/DiagnosticReports names the code-signature kill.",
                 setup=[_fresh("home/Library/Logs/DiagnosticReports/2.1.114-2026-11-30-093024.ips")])  # fmt: skip
    write_executable(root / "home/.local/share/claude/versions/2.1.114", SIGKILLED_CLAUDE)
    link = root / "home/.local/bin/claude"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        link.symlink_to("../share/claude/versions/2.1.114")
    write(root / "home/Library/Logs/DiagnosticReports/2.1.114-2026-11-30-093024.ips", CODESIGN_IPS)
    root = _case("install.claude", "darwin-cask-and-native-updater",
                 {"-": {"status": "warn", "words": ["2 Claude Code installations", "homebrew", "native",
                                                    "rm -f ~/.local/bin/claude", "brew upgrade --cask claude-code"]}},
                 "The Homebrew cask (/opt/homebrew/bin/claude -> Caskroom) runs; its updater also put a native build in "
                 "~/.local/bin: two installations.")  # fmt: skip
    write_executable(root / "sysroot/opt/homebrew/Caskroom/claude-code/2.1.37/claude", claude_binary("2.1.37"))
    link = root / "sysroot/opt/homebrew/bin/claude"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        link.symlink_to("../Caskroom/claude-code/2.1.37/claude")
    write_executable(root / "home/.local/share/claude/versions/2.1.40", claude_binary("2.1.40"))
    link = root / "home/.local/bin/claude"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        link.symlink_to("../share/claude/versions/2.1.40")
    # network.credentials
    root = _case("network.credentials", "darwin-keychain-login",
                 {"-": {"status": "ok", "words": ["oauth (…AAAA)", "login Keychain, service 'Claude Code-credentials', "
                                                  "account 'dev'"]}},
                 "The OAuth login in the login Keychain (no ~/.claude/.credentials.json on a Mac).")  # fmt: skip
    write_executable(root / "sysroot/usr/bin/security", security({"Claude Code-credentials": LOGIN_ITEM}))
    root = _case("network.credentials", "darwin-keychain-config-dir-suffix",
                 {"-": {"status": "ok", "words": ["service 'Claude Code-credentials-", "oauth (…AAAA)"]}},
                 "CLAUDE_CONFIG_DIR set: the item's service gets -<first 8 hex of sha256(dir)>; only that item exists.",
                 env={"CLAUDE_CONFIG_DIR": "/Users/dev/.claude-work"})  # fmt: skip
    import hashlib

    suffix = hashlib.sha256(b"/Users/dev/.claude-work").hexdigest()[:8]
    write_executable(root / "sysroot/usr/bin/security", security({f"Claude Code-credentials-{suffix}": LOGIN_ITEM}))
    root = _case(
        "network.credentials",
        "darwin-keychain-api-key",
        {"-": {"status": "ok", "words": ["keychain-api-key", "service 'Claude Code'"]}},
        "A Console API key stored by /login under service 'Claude Code'; no OAuth item (exit 44).",
    )
    write_executable(
        root / "sysroot/usr/bin/security",
        security({"Claude Code": "sk-ant-api03-MACKEYCHAINfakeAPIkey-00000000000000000000-CCCC"}),
    )
    root = _case(
        "network.credentials",
        "darwin-keychain-empty",
        {"-": {"status": "fail", "words": ["no credentials", "no item (security exit 44)"]}},
        "No Keychain item and no credentials file: not logged in.",
    )
    write_executable(root / "sysroot/usr/bin/security", security({}))
    root = _case("network.credentials", "darwin-keychain-login-beside-mcp-oauth-item",
                 {"-": {"status": "ok", "words": ["oauth (…AAAA)", "account 'dev'"]}},
                 "Two items with the service 'Claude Code-credentials': account 'unknown' holds only mcpOAuth (MCP "
                 "servers' tokens), account $USER the login. Asked with -a $USER, as Claude Code asks, the login is found.")  # fmt: skip
    mcp_only = json.dumps({"mcpOAuth": {"github|1a2b": {"accessToken": "gho_MACKEYCHAINfakeMCPtoken000000"}}})
    write_executable(root / "sysroot/usr/bin/security", security({"Claude Code-credentials/unknown": mcp_only,
                                                                  "Claude Code-credentials/dev": LOGIN_ITEM}))  # fmt: skip
    root = _case(
        "network.credentials",
        "darwin-keychain-mcp-oauth-item-only",
        {"-": {"status": "fail", "words": ["no credentials", "an item without claudeAiOauth"]}},
        "The item under $USER holds only mcpOAuth: not a login; Claude Code asks you to log in.",
    )
    write_executable(root / "sysroot/usr/bin/security", security({"Claude Code-credentials/dev": mcp_only}))
    root = _case("network.credentials", "darwin-keychain-locked",
                 {"-": {"status": "fail", "words": ["login Keychain is locked", "security unlock-keychain",
                                                    "security exit 36", "claude setup-token"]}},
                 "Over SSH the login keychain is locked: security exits 36 (errSecInteractionNotAllowed).")  # fmt: skip
    write_executable(root / "sysroot/usr/bin/security", security({}, locked=True))
    # managed files
    _case("config.file", "darwin-managed-settings-corrupt",
          {"managed-settings": {"status": "fail", "words": ["/Library/Application Support/ClaudeCode/managed-settings.json",
                                                            "line 1"]}},
          "On macOS the managed settings live in /Library/Application Support/ClaudeCode/, not /etc/claude-code/.",
          setup=[{"op": "write", "path": "sysroot/Library/Application Support/ClaudeCode/managed-settings.json",
                  "text": "{\"permissions\": {\"deny\": [\"Bash(rm:*)\",]}"}])  # fmt: skip
    _case("context.memory-files", "darwin-managed-claude-md-50kb",
          {"-": {"status": "warn", "words": ["over 15,000", "/Library/Application Support/ClaudeCode/CLAUDE.md",
                                             "leaves ~"]}},
          "A 50 KB managed CLAUDE.md in /Library/Application Support/ClaudeCode/ loads into every session: a warn "
          "(Claude Code does not fail on it; the context estimate still leaves room).",
          setup=[{"op": "write", "path": "sysroot/Library/Application Support/ClaudeCode/CLAUDE.md",
                  "text": "# Company rules\n" + "Always follow the security policy in every change you make.\n" * 850}])  # fmt: skip


if __name__ == "__main__":
    write_cases()
