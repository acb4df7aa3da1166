"""The whole suite judging a Mac, on Linux: `--platform darwin --sysroot S` over a prepared Mac tree whose stand-in
executables print recorded real macOS outputs (tests/macos_tree.py names the source of each)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import homes
import macos_tree as mac
import pytest
from test_plugin import run_suite

from claude_preflight import catalogue
from claude_preflight.probes import macos

DAY = 86400.0


def build_mac(root: Path, damaged: bool) -> tuple[Path, Path, Path]:
    """A Mac: the realistic home and project, a sysroot with the Mac's own tools, a native Claude Code."""
    home, project = homes.build(root, damaged=damaged)
    sysroot = root / "sysroot"
    now = time.time()
    mac.memory(sysroot, pressure=4 if damaged else 1, free=7 if damaged else 66)
    mac.launchctl(sysroot, "256" if damaged else "65536", "unlimited" if damaged else "200000")
    mac.write_executable(sysroot / "usr/bin/security", mac.security({"Claude Code-credentials": mac.LOGIN_ITEM}))
    mac.write_executable(home / ".local/share/claude/versions/2.1.330", mac.claude_binary("2.1.330"))
    mac.write_executable(
        sysroot / "usr/bin/python3", "#!/bin/sh\n# Stand-in: macOS /usr/bin/python3\necho Python 3.9.6\n"
    )
    for tool in ("node", "npx"):  # Homebrew's node@22 (the home's MCP servers start with npx)
        mac.write_executable(
            sysroot / f"opt/homebrew/bin/{tool}", "#!/bin/sh\n# Stand-in: Homebrew node 22\necho v22.11.0\n"
        )
    (home / ".local/bin").mkdir(parents=True, exist_ok=True)
    (home / ".local/bin/claude").symlink_to("../share/claude/versions/2.1.330")
    me = os.geteuid()  # the sessions are "yours": the uid this test runs as
    rows = [(1, 0, 0, 12000, "??", now - 40 * DAY, "/sbin/launchd", "/sbin/launchd"),
            (900, 1, me, 8000, "ttys001", now - DAY, "/bin/zsh", "-zsh"),
            (901, 900, me, 300_000, "ttys001", now - 3600, "/Users/dev/.local/share/claude/versions/2.1.330", "claude")]  # fmt: skip
    if damaged:
        # 23 idle sessions adopted by launchd, 19.5 GB between them (the report this project began with); each left
        # its registry entry, and its pid still runs with the start Claude Code recorded: alive, not killed.
        for n in range(23):
            pid, started = 5000 + n, now - (2 + n / 10) * DAY
            rows.append((pid, 1, me, 450_000, "??", started, "/Users/dev/.local/share/claude/versions/2.1.330",
                         "claude --resume"))  # fmt: skip
            mac.session_entry(home / ".claude", pid, f"0b5c5e1e-0000-4000-8000-{pid:012d}", str(project), started,
                              mac.lstart(started))  # fmt: skip
        report = sysroot / "Library/Logs/DiagnosticReports/JetsamEvent-2026-11-30-113747.ips"
        mac.write(report, mac.jetsam_report("2026-11-30 11:37:47.00 +0900", killed_claude=True))
        mac.unified_log(sysroot, [mac.JETSAM_LOG_CLAUDE])
        mac.write(sysroot / "Library/Application Support/ClaudeCode/managed-settings.json", '{"permissions": {,}}')
    else:
        mac.unified_log(sysroot, [])
    mac.write_executable(sysroot / "bin/ps", mac.ps(rows))
    # Idle sessions' footprint is about twice their RSS (compressed pages): 23 x 870 MB = the 19.5 GB of the report.
    footprints = {row[0]: "870M" if row[0] >= 5000 else f"{row[3] // 1024}M" for row in rows}
    mac.standin(sysroot / "usr/bin/top", mac.top(footprints), source="eneskirca/nodeterm#139")
    return home, project, sysroot


@pytest.fixture
def mac_environment(monkeypatch, tmp_path):
    """The shell a Mac user runs from: PATH of Homebrew, ~/.local/bin and the system (all under the sysroot)."""
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "CLAUDE_", "AWS_", "NODE_", "CLOUD_ML", "GOOGLE_")) or name in (
            "MCP_TIMEOUT",
        ):
            monkeypatch.delenv(name)
    monkeypatch.setenv("USER", "dev")
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()

    def use(home: Path, sysroot: Path) -> None:
        monkeypatch.setenv("PATH", mac.os_environ_path(sysroot, home))

    return use


def run_mac(pytester, mac_environment, root: Path, damaged: bool) -> dict[str, list[dict]]:
    home, project, sysroot = build_mac(root, damaged)
    mac_environment(home, sysroot)
    out = pytester.path / "mac.json"
    run_suite(pytester, home, project, "--platform", "darwin", "--sysroot", str(sysroot), "--offline",
              "--no-mcp-start", "--json", str(out), machine=True)  # fmt: skip
    by_id: dict[str, list[dict]] = {}
    for check in json.loads(out.read_text())["checks"]:
        by_id.setdefault(check["id"], []).append(check)
    return by_id


def statuses(by_id: dict[str, list[dict]]) -> dict[str, str]:
    order = ["error", "fail", "warn", "ok", "skip"]
    return {cid: min((c["status"] for c in checks), key=order.index) for cid, checks in by_id.items()}


# Every check's verdict (the worst over its targets) on a healthy Mac, and why it is right there.
HEALTHY = {
    "config.file": "ok",
    "config.corrupt-backups": "ok",
    "context.memory-files": "ok",
    "context.state-file": "ok",
    "disk.space": "ok",  # statvfs of the temp directory this test runs in (not simulated)
    "install.claude": "ok",  # the native build in ~/.local/bin
    "install.known-bad": "ok",
    "install.node": "ok",  # Homebrew's node 22 for the home's npx MCP servers
    "install.auto-update": "skip",  # no npm-global installation
    "install.ripgrep": "ok",  # the native build brings its own
    "install.shell-snapshots": "skip",
    "install.os-limits": "ok",  # launchctl maxfiles 65536 200000
    "install.cpu": "ok",  # Apple Silicon
    "install.terminal": "ok",
    "mcp.server": "ok",  # --no-mcp-start: static checks only
    "mcp.context": "skip",
    "memory.headroom": "ok",  # pressure level 1, 66% free; swap 67% used is not judged on macOS
    "memory.cgroup": "skip",  # no cgroups on macOS
    "memory.oom-kills": "ok",  # no JetsamEvent report, no memorystatus kill in the unified log
    "memory.wsl": "skip",
    "memory.heap-flags": "skip",
    "memory.claude-processes": "ok",  # one session in a terminal
    "memory.killed-sessions": "ok",
    "network.credentials": "ok",  # the OAuth login in the login Keychain
    "network.api-key": "skip",  # --offline
    "network.latency": "skip",
    "network.ca-certs": "skip",
    "network.tls": "skip",
    "network.streaming": "skip",
    "network.timeouts": "ok",
    "permissions.path": "ok",
    "permissions.ownership": "ok",
    "sessions.crash-signatures": "ok",
    "sessions.transcript-damage": "ok",
    "sessions.index": "skip",
    "sessions.history": "ok",
    "hooks.command": "skip",  # the home configures no hooks
    "hooks.status-line": "skip",
    "plugins.installed": "skip",  # the built-in agents-md store entry only: no marketplace plugin
    "windows.git-bash": "skip",  # Windows only
    "windows.path": "skip",
    "windows.managed-settings": "skip",
    "windows.long-paths": "skip",
}
# The damaged Mac: what changes, and why.
DAMAGED = {
    **HEALTHY,
    "config.file": "fail",  # the corrupt managed settings in /Library/Application Support/ClaudeCode (and the home's)
    "config.corrupt-backups": "warn",  # the home's .claude.json.corrupted copy
    "memory.headroom": "fail",  # kern.memorystatus_vm_pressure_level 4
    "memory.oom-kills": "fail",  # a JetsamEvent report and the unified log: jetsam killed 2.1.37
    "memory.claude-processes": "fail",  # 24 sessions, 19.8 GiB footprint of 16 GiB; 23 orphaned
    "memory.killed-sessions": "warn",  # the home's registry entry for pid 15510, which ps does not list
    "install.os-limits": "warn",  # launchd's soft maxfiles 256
    "sessions.crash-signatures": "warn",  # the home's 401/429/500 sessions
    "sessions.transcript-damage": "warn",  # the home's torn transcript
}


def test_a_healthy_mac_passes_every_mac_check(pytester, mac_environment, tmp_path):
    by_id = run_mac(pytester, mac_environment, tmp_path / "healthy", damaged=False)
    got = statuses(by_id)
    assert set(HEALTHY) == {info.id for info in catalogue.CATALOGUE}, "every check has its expected verdict"
    assert got == HEALTHY
    assert "error" not in got.values()
    text = json.dumps(by_id)
    assert "login Keychain, service 'Claude Code-credentials', account 'dev'" in text
    assert mac.FAKE_ACCESS not in text and mac.FAKE_REFRESH not in text, "the Keychain secret never reaches a report"
    limits = by_id["install.os-limits"][0]
    assert "inotify" not in json.dumps([limits["summary"], limits["evidence"], limits["remediation"]]), "no inotify"


def test_a_damaged_mac_gets_each_cause_with_its_mac_fix(pytester, mac_environment, tmp_path):
    by_id = run_mac(pytester, mac_environment, tmp_path / "damaged", damaged=True)
    got = statuses(by_id)
    assert got == DAMAGED
    assert "error" not in got.values()

    def text(cid: str) -> str:
        return json.dumps(by_id[cid])

    assert "memory pressure is critical" in text("memory.headroom")
    assert "jetsam killed Claude Code 1 time(s)" in text("memory.oom-kills") and "2.1.37" in text("memory.oom-kills")
    assert "23 orphaned session(s)" in text("memory.claude-processes") and "kill 5022" in text(
        "memory.claude-processes"
    )
    assert "open-file limit is 256" in text("install.os-limits") and "launchctl limit maxfiles" in text(
        "install.os-limits"
    )
    managed = [c for c in by_id["config.file"] if "ClaudeCode/managed-settings.json" in (c["target"] or "")]
    assert managed and managed[0]["status"] == "fail"
    assert "/Library/Application Support/ClaudeCode/managed-settings.json" in json.dumps(managed)
    assert got["network.credentials"] == "ok", "the Keychain login is present on the damaged Mac too"
    assert mac.FAKE_ACCESS not in json.dumps(by_id)


def test_the_keychain_service_name_follows_claude_codes_rule():
    """Claude Code 2.1.330: `Claude Code${suffix}${kind}` + (CLAUDE_CONFIG_DIR set ? "-" + sha256(dir NFC)[:8] : "")."""
    from claude_preflight.env import Env

    plain = Env(home=Path("/Users/dev"), project=Path("/"), environ={}, platform="darwin")
    assert macos.keychain_service(plain) == "Claude Code-credentials"
    assert macos.keychain_service(plain, "") == "Claude Code"
    custom = Env(home=Path("/Users/dev"), project=Path("/"), environ={"CLAUDE_CONFIG_DIR": "/Users/dev/.claude-work"})
    import hashlib

    digest = hashlib.sha256(b"/Users/dev/.claude-work").hexdigest()[:8]
    assert macos.keychain_service(custom) == f"Claude Code-credentials-{digest}"
    assert macos.keychain_account(Env(home=Path("/"), project=Path("/"), environ={"USER": "a b"})) == "claude-code-user"


def certificates_standin(pems: list[str]) -> str:
    """`security find-certificate -a -p <keychain>` prints every certificate as PEM, one after another (the PEM
    blocks of the real command); find-generic-password finds nothing (exit 44)."""
    import shlex

    body = "".join(pems)
    return f"""#!/bin/sh
# Stand-in for macOS security: find-certificate -a -p prints the keychain's certificates as PEM.
case "$1" in
  find-certificate) printf '%s' {shlex.quote(body)}; exit 0 ;;
esac
printf '%s\\n' {shlex.quote(mac.NOT_FOUND)} >&2
exit 44
"""


@pytest.mark.parametrize("in_keychain", [True, False])
def test_a_corporate_ca_in_the_keychain_is_trusted_as_claude_code_trusts_it(tmp_path, in_keychain):
    """A real HTTPS server on 127.0.0.1 whose CA is not in Python's trust store: on a Mac whose Keychain holds that
    CA, Claude Code trusts it (ok); without it, the fix says how to add it to the Keychain."""
    from caserunner import load_checks
    from servers import tls_api

    from claude_preflight.checking import REGISTRY, run
    from claude_preflight.env import Env
    from claude_preflight.outcome import Status
    from claude_preflight.policy import Policy

    server, ca = tls_api(tmp_path)
    try:
        sysroot, home = tmp_path / "sysroot", tmp_path / "home"
        home.mkdir()
        other = "-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----\n"
        pems = [ca.read_text()] if in_keychain else [other]
        mac.write_executable(sysroot / "usr/bin/security", certificates_standin(pems))
        env = Env(home=home, project=tmp_path, sysroot=sysroot, platform="darwin",
                  environ={"PATH": mac.os_environ_path(sysroot, home), "ANTHROPIC_BASE_URL": f"https://localhost:{server.port}"})  # fmt: skip
        load_checks()
        result = run(REGISTRY["network.tls"], env, Policy(network_timeout_s=1.5, probe_timeout_s=2))
    finally:
        server.stop()
    if in_keychain:
        assert result.status is Status.OK, result.text()
        assert "in the macOS Keychain" in result.summary and "Preflight Test Corp" in result.text()
    else:
        assert result.status is Status.FAIL, result.text()
        assert "security add-trusted-cert" in result.remediation and "~/.zshrc" in result.remediation


def test_tcc_refusal_names_privacy_protection_not_mode_bits(tmp_path):
    """MOCK, said so: macOS privacy protection (TCC) cannot exist on Linux, so this Env's directory open fails with
    EPERM the way a Mac's does under ~/Documents for a terminal without the grant. The directory is real and its mode
    bits allow everything: only opening it tells."""
    import errno

    from caserunner import load_checks

    from claude_preflight.checking import REGISTRY, run_targets
    from claude_preflight.env import Env
    from claude_preflight.policy import Policy

    documents = tmp_path / "home" / "Documents" / "app"
    documents.mkdir(parents=True)

    class TccEnv(Env):
        @staticmethod
        def list_errno(directory: Path) -> int | None:
            return errno.EPERM if "Documents" in str(directory) else Env.list_errno(directory)

    env = TccEnv(home=tmp_path / "home", project=documents, sysroot=tmp_path / "sysroot", platform="darwin",
                 environ={"PATH": "/nonexistent", "TMPDIR": str(tmp_path)})  # fmt: skip
    load_checks()
    results = {t.id: r for t, r in run_targets(REGISTRY["permissions.path"], env, Policy())}
    project = results["project-dir"]
    assert project.status.value == "fail", project.text()
    assert "privacy protection (TCC)" in project.summary and "Privacy & Security" in project.remediation
    linux = TccEnv(home=tmp_path / "home", project=documents, environ={"TMPDIR": str(tmp_path)}, platform="linux")
    assert {t.id: r for t, r in run_targets(REGISTRY["permissions.path"], linux, Policy())}[
        "project-dir"
    ].status.value == "ok"


def test_a_keychain_secret_is_redacted_from_the_moment_it_is_read(tmp_path):
    """A Keychain item's whole JSON and each token in it are secrets as soon as `security` printed them, also a
    token with no sk-ant- prefix that no pattern would catch."""
    from claude_preflight.env import Env
    from claude_preflight.redact import Redactor

    odd = "opaque-refresh-0123456789abcdefABCDEF"
    item = json.dumps({"claudeAiOauth": {"accessToken": mac.FAKE_ACCESS, "refreshToken": odd, "expiresAt": 1}})
    sysroot = tmp_path / "sysroot"
    mac.write_executable(sysroot / "usr/bin/security", mac.security({"Claude Code-credentials": item}))
    env = Env(home=tmp_path, project=tmp_path, sysroot=sysroot, platform="darwin", environ={"USER": "dev"})
    from claude_preflight.probes import network

    credential = network.credentials(env, 2, 1 << 20)
    assert credential.source == "oauth" and credential.value == mac.FAKE_ACCESS
    shown = Redactor(learned=env.this_run.learned)(f"leaked: {odd} and {item}")
    assert odd not in shown and mac.FAKE_ACCESS not in shown and "claudeAiOauth" not in shown


def test_mac_parsers_on_recorded_outputs():
    assert macos.parse_swapusage("total = 1024,00M  used = 379,25M  free = 644,75M  (encrypted)") == {
        "total": 1024 << 20, "used": int(379.25 * (1 << 20)), "free": int(644.75 * (1 << 20))}  # fmt: skip
    size, pages = macos.parse_vm_stat(mac.VM_STAT)
    assert size == 16384 and pages["free"] == 3857 and pages["occupied by compressor"] == 442179
    assert macos.parse_free_percent(mac.memory_pressure(66)) == 66
    assert macos.parse_top_footprints(mac.top({7132: "1066M", 440: "1.5G", 12: "512B", 99996: "8160K"})) == {
        7132: 1066 << 20, 440: int(1.5 * (1 << 30)), 12: 512, 99996: 8160 << 10}  # fmt: skip
    assert macos.parse_launchctl_limit(mac.launchctl_maxfiles("256")) == (256, None)
    assert macos.parse_launchctl_limit("\tmaxfiles    65536          200000\n") == (65536, 200000)
    match = macos.KILLING.search(mac.JETSAM_LOG_CLAUDE)
    assert match and match.groups() == ("6056", "2.1.37")
    header, body = json.loads(mac.CODESIGN_IPS.splitlines()[0]), mac.CODESIGN_IPS.split("\n", 1)[1]
    assert header["bug_type"] == "309" and "Code Signature Invalid" in body


def test_fix_under_a_mac_simulation_still_asks_this_machine_which_sessions_live(tmp_path):
    """--fix must never rewrite a transcript a real session here is writing: a live process of this (Linux) machine,
    registered as Claude Code registers it here (/proc starttime), stays live under --platform darwin."""
    import subprocess

    from claude_preflight.env import Env
    from claude_preflight.probes.sessions import process_start
    from claude_preflight.repairs import live_session_ids

    child = subprocess.Popen(["sleep", "30"])
    try:
        here = Env(home=tmp_path, project=tmp_path)
        mac.session_entry(tmp_path / ".claude", child.pid, "live-session", str(tmp_path), time.time(),
                          process_start(here, child.pid) or "")  # fmt: skip
        simulated = Env(home=tmp_path, project=tmp_path, sysroot=tmp_path / "sysroot", platform="darwin")
        assert live_session_ids(simulated) == {"live-session"}
    finally:
        child.kill()
        child.wait()
