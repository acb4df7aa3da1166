"""Native Windows, simulated on Linux: the suite loads without POSIX-only modules and judges a Windows tree.

No Windows machine runs here. What stands in for it, and why:
- a subprocess whose import system refuses pwd, grp, resource, fcntl and termios (as Windows' Python does), running
  the real suite with --platform win32 over a prepared tree (the sysroot plays drive C:);
- stand-in executables at the real Windows paths (claude.exe, reg.exe, %ComSpec%), each naming its source;
- the Windows forms of Env's POSIX calls (pread, statvfs, geteuid, killpg) run here with the POSIX call removed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest
from servers import KEY_PREFIX, tls_api

from claude_preflight import children, platforms
from claude_preflight.env import Env, pread

ROOT = Path(__file__).resolve().parent.parent
TINY = Path(__file__).parent / "mcp_servers" / "tiny.py"
FIXTURES = Path(__file__).parent / "fixtures" / "real-claude"
BLOCKED = ("pwd", "grp", "resource", "fcntl", "termios")

# Runs first in the child: any import of a POSIX-only module fails as it does on Windows, and is recorded.
BLOCKER = textwrap.dedent(
    f"""
    import sys
    BLOCKED = {BLOCKED!r}
    ATTEMPTS = []

    class PosixOnly:
        def find_spec(self, name, path=None, target=None):
            if name in BLOCKED:
                ATTEMPTS.append(name)
                raise ImportError(f"No module named {{name!r}} (blocked: Windows has no {{name}})")
            return None

    for name in BLOCKED:
        sys.modules.pop(name, None)
    sys.meta_path.insert(0, PosixOnly())
    from claude_preflight.cli import main
    code = main(sys.argv[1:])
    loaded = [name for name in BLOCKED if sys.modules.get(name) is not None]
    sys.stderr.write("BLOCKED-ATTEMPTS " + ",".join(sorted(set(ATTEMPTS))) + " LOADED " + ",".join(loaded) + "\\n")
    sys.exit(code)
    """
)


def _exe(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)


def _file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def windows_tree(root: Path) -> dict[str, Path]:
    """A Windows user's machine as files: profile, project, and drive C: (the sysroot)."""
    home, project, sysroot = root / "home", root / "project", root / "sysroot"
    project.mkdir(parents=True)
    # The native install, on PATH: a release with a known memory leak (2.1.27, #22042).
    _exe(
        home / ".local" / "bin" / "claude.exe",
        "#!/bin/sh\n# Stand-in for claude.exe --version\necho '2.1.27 (Claude Code)'\n",
    )
    # Git for Windows where Claude Code looks first.
    _file(sysroot / "Program Files" / "Git" / "bin" / "bash.exe", "stand-in: only its presence matters\n")
    # A policy left in the deprecated place (#18720): Claude Code 2.1.332 reads only C:\Program Files\ClaudeCode.
    _file(
        sysroot / "ProgramData" / "ClaudeCode" / "managed-settings.json",
        '{"permissions": {"deny": ["Bash(curl:*)"]}}\n',
    )
    # reg.exe as Windows answers `reg query HKLM\...\FileSystem /v LongPathsEnabled` (value 0: long paths off).
    _exe(
        sysroot / "Windows" / "System32" / "reg.exe",
        "#!/bin/sh\n# Stand-in for reg.exe; output format of `reg query` (learn.microsoft.com, reg-query)\n"
        "printf '\\r\\nHKEY_LOCAL_MACHINE\\\\SYSTEM\\\\CurrentControlSet\\\\Control\\\\FileSystem\\r\\n"
        "    LongPathsEnabled    REG_DWORD    0x0\\r\\n\\r\\n'\n",
    )
    # %ComSpec%: Node's `shell: true` runs `cmd.exe /d /s /c COMMAND`; the stand-in runs COMMAND with sh.
    comspec = sysroot / "Windows" / "System32" / "cmd.exe"
    _exe(
        comspec,
        '#!/bin/sh\n# Stand-in for cmd.exe: /d /s /c COMMAND\n[ "$1 $2 $3" = "/d /s /c" ] || exit 9\nexec /bin/sh -c "$4"\n',
    )
    claude = home / ".claude"
    _file(claude / "settings.json", json.dumps({"apiKeyHelper": f"echo {KEY_PREFIX}ok"}) + "\n")
    _file(project / ".claude" / "settings.local.json", '{\n  "permissions": {"allow": ["Bash(npm test)"]},\n}\n')
    _file(project / "CLAUDE.md", "# Project\nRun the tests before committing.\n")
    state = {
        "mcpServers": {"tiny": {"type": "stdio", "command": sys.executable, "args": [str(TINY), "ok", "2"]}},
        "projects": {str(project): {"hasTrustDialogAccepted": True, "allowedTools": []}},
    }
    _file(home / ".claude.json", json.dumps(state, indent=2) + "\n")
    # A session from a deep working directory: its transcript path is over 260 characters as Windows spells it.
    folder = ("C--Users-dev-AppData-Roaming-Claude-local-agent-mode-sessions-" + "6f1c2d9e-4b7a-4f0e-9a51-" * 7)[:200]
    line = (
        '{"type":"user","message":{"role":"user","content":"hi"},"sessionId":"0b1e7c52-9a4d-4e8f-b2c3-7d6a5f4e3c21"}\n'
    )
    _file(claude / "projects" / folder / "0b1e7c52-9a4d-4e8f-b2c3-7d6a5f4e3c21.jsonl", line)
    # Two sessions that died of a rejected key (transcripts the real CLI wrote), in a Windows project's folder.
    for n in (1, 2):
        target = claude / "projects" / "C--Users-dev-src-app" / f"{n}1111111-0000-4000-8000-00000000000{n}.jsonl"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FIXTURES / "transcripts" / "err.print-401.jsonl", target)
    return {"home": home, "project": project, "sysroot": sysroot, "comspec": comspec}


def test_suite_loads_without_posix_modules_and_judges_a_windows_tree(tmp_path):
    tree = windows_tree(tmp_path / "machine")
    server, ca_pem = tls_api(tmp_path)
    try:
        environ = {
            "PATH": f"{tree['home'] / '.local' / 'bin'}{os.pathsep}{Path(sys.executable).parent}",
            "HOME": str(tree["home"]),
            "USERPROFILE": "C:\\Users\\dev",
            "USERNAME": "dev",
            "ComSpec": str(tree["comspec"]),
            "TMPDIR": str(tmp_path),
            "NPM_CONFIG_PREFIX": str(tmp_path / "no-npm"),
            "ANTHROPIC_BASE_URL": f"https://localhost:{server.port}",
            "NODE_EXTRA_CA_CERTS": str(ca_pem),
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        }
        out = tmp_path / "report.json"
        argv = ["--home", str(tree["home"]), "--project", str(tree["project"]), "--sysroot", str(tree["sysroot"]),
                "--platform", "win32", "--json", str(out), "-o", "disk_fail_gib=0", "-o", "disk_warn_gib=0",
                "-o", "disk_warn_inodes_percent=0", "-o", "latency_warn_s=30", "-o", "latency_fail_s=60"]  # fmt: skip
        run = subprocess.run([sys.executable, "-c", BLOCKER, *argv], env=environ, cwd=tmp_path,
                             capture_output=True, text=True, timeout=240)  # fmt: skip
    finally:
        server.stop()
    assert out.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    line = run.stderr.rsplit("BLOCKED-ATTEMPTS ", 1)[-1].splitlines()[0]
    attempted, loaded = (part.strip() for part in line.split("LOADED"))
    assert attempted and not loaded, line  # the blocker was asked (so it was in force) and nothing got past it
    report = json.loads(out.read_text())
    assert report["host"].get("platform") is not None
    results: dict[str, list[dict]] = {}
    for entry in report["checks"]:
        results.setdefault(entry["id"], []).append(entry)
    errors = [c for c in report["checks"] if "internal error" in c["summary"]]
    assert not errors, errors

    def status(check_id: str, target: str | None = None) -> str:
        found = [c for c in results[check_id] if target is None or c["target"] == target]
        assert found, (check_id, target, results.get(check_id))
        return found[0]["status"]

    # Platform-neutral checks give their verdicts on Windows.
    broken = [c for c in results["config.file"] if c["status"] == "fail"]
    assert [Path(c["target"]).name for c in broken] == ["settings.local.json"]
    assert status("config.corrupt-backups") in ("ok", "skip")
    assert status("context.memory-files") == "ok"
    assert status("context.state-file") == "ok"
    assert status("mcp.server") == "ok" and status("mcp.context") == "ok"
    credentials = results["network.credentials"][0]
    assert credentials["status"] == "ok" and "apiKeyHelper" in " ".join(credentials["evidence"]), credentials
    assert status("network.api-key") == "ok"  # the helper's key, run through %ComSpec% /d /s /c, was accepted
    assert status("network.tls") == "ok" and status("network.latency") in ("ok", "warn")
    assert status("network.timeouts") == "ok"
    assert status("install.known-bad") == "fail"  # claude.exe 2.1.27
    signatures = {c["status"] for c in results["sessions.crash-signatures"]}
    failed = [c for c in results["sessions.crash-signatures"] if c["status"] == "fail"]
    assert signatures <= {"ok", "fail"} and len(failed) == 1, signatures
    assert "in 2 of 3 recent session(s)" in failed[0]["summary"] + " ".join(failed[0]["evidence"]), failed  # 401s
    assert {c["status"] for c in results["sessions.transcript-damage"]} <= {"ok", "skip"}
    assert status("sessions.history") in ("ok", "warn")
    assert status("disk.space") in ("ok", "warn")
    # Windows causes.
    assert status("windows.git-bash") == "ok"
    assert status("windows.path") == "ok"
    assert status("windows.managed-settings") == "warn"
    assert status("windows.long-paths") == "warn"
    # POSIX-only checks skip with the reason, before any probe runs.
    for check_id, reason in platforms.NOT_ON["win32"].items():
        for entry in results[check_id]:
            assert entry["status"] == "skip" and reason in entry["summary"], entry


def test_windows_checks_skip_elsewhere():
    for check_id in platforms.ONLY_ON:
        assert platforms.unsupported(check_id, "linux").startswith("not Windows (Linux)")
        assert platforms.unsupported(check_id, "win32") is None
    assert platforms.unsupported("config.file", "win32") is None


# -- the Windows forms of Env's POSIX calls, run here with the POSIX call taken away -------------------------
def test_pread_without_os_pread_reads_at_offset_and_keeps_the_position(tmp_path, monkeypatch):
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"0123456789abcdef")
    monkeypatch.delattr(os, "pread")
    with Env.open_regular(path) as handle:
        assert handle.read(4) == b"0123"
        assert pread(handle.fileno(), 6, 10) == b"abcdef"
        assert pread(handle.fileno(), 100, 14) == b"ef"  # short at the end, as os.pread
        assert handle.read(2) == b"45"  # the position is where it was


def test_disk_space_without_statvfs_uses_disk_usage(tmp_path, monkeypatch):
    usage = shutil.disk_usage(tmp_path)
    # On Windows shutil.disk_usage asks GetDiskFreeSpaceExW; on Linux it is built on os.statvfs, so with statvfs
    # taken away it is given this machine's figures (the one stand-in here).
    monkeypatch.delattr(os, "statvfs")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage)
    free, total, free_inodes, total_inodes = Env.disk_space(tmp_path)
    assert total == usage.total and 0 < free <= total
    assert (free_inodes, total_inodes) == (0, 0)  # NTFS counts no inodes: the rule says so instead of dividing


def test_identity_without_posix_modules(monkeypatch):
    monkeypatch.delattr(os, "geteuid")
    monkeypatch.setitem(sys.modules, "pwd", None)  # `import pwd` raises ImportError, as on Windows
    monkeypatch.setitem(sys.modules, "resource", None)
    monkeypatch.setenv("USERNAME", "dev")
    env = Env(home=Path("/nonexistent"), project=Path("/nonexistent"), platform="win32")
    assert env.uid == -1
    assert Env.user_name(env.uid) == "dev"
    assert Env.nofile_limit() == (None, None)


def test_windows_paths_and_shell(tmp_path):
    env = Env(home=tmp_path, project=tmp_path, sysroot=tmp_path / "c", environ={"ComSpec": "C:\\WINDOWS\\system32\\cmd.exe"},
              platform="win32")  # fmt: skip
    assert env.managed_dir == tmp_path / "c" / "Program Files" / "ClaudeCode"
    assert env.win_path(r"C:\ProgramData\ClaudeCode") == tmp_path / "c" / "ProgramData" / "ClaudeCode"
    assert env.shell_argv("helper.cmd --key") == [
        "C:\\WINDOWS\\system32\\cmd.exe",
        "/d",
        "/s",
        "/c",
        "helper.cmd --key",
    ]
    linux = Env(home=tmp_path, project=tmp_path, sysroot=tmp_path / "r", platform="linux")
    assert linux.managed_dir == tmp_path / "r" / "etc" / "claude-code"
    assert linux.shell_argv("x") == ["/bin/sh", "-c", "x"]


def test_release_without_killpg_kills_the_whole_tree(monkeypatch):
    """Windows has no process groups to kill at once: release() finds the tree with psutil and kills it."""
    monkeypatch.delattr(os, "killpg")
    monkeypatch.setattr(children, "_NEW_GROUP", {})  # no new session either: the tree alone must be found
    proc = children.spawn(["/bin/sh", "-c", "sleep 60 & sleep 60 & wait"], dict(os.environ),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    tree = []
    for _ in range(100):
        tree = psutil.Process(proc.pid).children(recursive=True)
        if len(tree) >= 2:
            break
        psutil.wait_procs([], timeout=0.05)
    assert len(tree) >= 2
    children.release(proc)
    assert proc.poll() is not None
    gone, alive = psutil.wait_procs(tree, timeout=5)
    assert not alive, alive


def test_modules_import_with_posix_modules_blocked():
    """Every module of the package imports where pwd, grp, resource, fcntl and termios do not exist."""
    code = BLOCKER.split("from claude_preflight.cli import main")[0] + textwrap.dedent(
        """
        import importlib, pkgutil
        import claude_preflight, claude_preflight.checks
        for package in (claude_preflight, claude_preflight.checks):
            for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
                importlib.import_module(info.name)
        print("imported", sorted(set(ATTEMPTS)))
        """
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "imported" in run.stdout


def test_temp_dir_on_windows_is_nodes_os_tmpdir(tmp_path):
    sim = Env(home=tmp_path, project=tmp_path, sysroot=tmp_path / "c", platform="win32",
              environ={"TEMP": "C:\\Users\\dev\\AppData\\Local\\Temp", "TMPDIR": "/ignored"})  # fmt: skip
    assert sim.tmp_dir == tmp_path / "c" / "Users" / "dev" / "AppData" / "Local" / "Temp"
    bare = Env(home=tmp_path, project=tmp_path, sysroot=tmp_path / "c", platform="win32", environ={})
    assert bare.tmp_dir == tmp_path / "c" / "Windows" / "temp"
    assert Env(home=tmp_path, project=tmp_path, environ={}, platform="linux").tmp_dir == Path("/tmp")


def test_the_root_of_a_windows_drive_is_no_simulation(tmp_path):
    """On Windows `--sysroot /` becomes C:\\ (Path('/').absolute()): that is this machine, not a prepared tree."""
    from pathlib import PureWindowsPath

    drive = Env(home=tmp_path, project=tmp_path, sysroot=PureWindowsPath("C:\\"), platform="win32")
    assert not drive.simulated
    assert not Env(home=tmp_path, project=tmp_path, sysroot=Path("/")).simulated
    assert Env(home=tmp_path, project=tmp_path, sysroot=tmp_path).simulated


def test_a_settings_command_reaches_cmd_exe_as_node_passes_it():
    from claude_preflight.env import command_line

    argv = Env(home=Path("/h"), project=Path("/p"), environ={}, platform="win32").shell_argv(
        '"C:\\Program Files\\Vault\\vault.exe" read -field=key secret/anthropic'
    )
    assert command_line(argv, windows=True) == (
        '"cmd.exe" /d /s /c ""C:\\Program Files\\Vault\\vault.exe" read -field=key secret/anthropic"'
    )
    assert command_line(["/bin/sh", "-c", "x"], windows=False) == ["/bin/sh", "-c", "x"]


def test_project_keys_are_spelled_as_the_windows_cli_spells_them():
    from pathlib import PureWindowsPath

    folder = PureWindowsPath("C:\\Users\\dev\\src\\app")
    assert Env(home=Path("/h"), project=Path("/p"), platform="win32").state_key(folder) == "C:/Users/dev/src/app"
    assert Env(home=Path("/h"), project=Path("/p"), platform="linux").state_key(Path("/src/app")) == "/src/app"


def test_repair_writes_close_every_file_before_renaming_as_windows_requires(tmp_path, monkeypatch):
    """Windows refuses to rename onto or from a file that is open. The Windows form of the writes is run here;
    a spy on os.replace/os.link (the one stand-in) asks psutil which files this process holds at that moment."""
    from claude_preflight import env as env_module
    from claude_preflight.env import Stamp

    monkeypatch.setattr(env_module, "_RENAME_OPEN_FILES", False)
    held_at_rename: list[set[str]] = []

    def spy(real):
        def call(src, dst, *args, **kwargs):
            held_at_rename.append({f.path for f in psutil.Process().open_files()} & {str(src), str(dst)})
            return real(src, dst, *args, **kwargs)

        return call

    monkeypatch.setattr(os, "replace", spy(os.replace))
    monkeypatch.setattr(os, "link", spy(os.link))
    transcript = tmp_path / "s.jsonl"
    transcript.write_bytes(b'{"a":1}\n{"torn')
    info = transcript.stat()
    real_still = env_module._still

    def late_writer(path, original, expected):  # a record appended after the last look, before the rename
        real_still(path, original, expected)
        with open(path, "ab") as handle:
            handle.write(b'{"late":1}\n')

    monkeypatch.setattr(env_module, "_still", late_writer)
    Env.write_atomically(transcript, [b'{"a":1}\n'], info.st_mode, unchanged=Stamp(info.st_size, info.st_mtime))
    assert transcript.read_bytes() == b'{"a":1}\n{"late":1}\n'  # repaired, and the late record carried over
    Env.copy_exclusive(transcript, tmp_path / "s.jsonl.backup")
    assert (tmp_path / "s.jsonl.backup").read_bytes() == transcript.read_bytes()
    assert held_at_rename == [set(), set()]
    assert not list(tmp_path.glob("*.preflight-tmp"))


def test_process_attributes_this_system_lacks_read_as_none(monkeypatch):
    """psutil on Windows has no uids() and no terminal(), and as_dict refuses them: asking must not raise. Here the
    names as_dict accepts are made Windows' (psutil itself still needs uids internally on Linux)."""
    monkeypatch.setattr(psutil, "_as_dict_attrnames", psutil._as_dict_attrnames - {"uids", "terminal"})
    with pytest.raises(ValueError):
        psutil.Process().as_dict(["uids"])  # what Env would meet on Windows without its filter
    env = Env(home=Path("/h"), project=Path("/p"))
    details = env.process_details(os.getpid(), ["pid", "uids", "terminal", "name"])
    assert details["pid"] == os.getpid() and details["name"]
    assert details["uids"] is None and details["terminal"] is None
