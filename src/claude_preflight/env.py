"""Env: the only code that touches the operating system.

Probes ask an Env for facts; tests build an Env over temporary directories (a fake home, project
and sysroot) and real processes, so every probe runs against real files without mocks.
"""

from __future__ import annotations

import atexit
import calendar
import contextlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from claude_preflight import children, native, net
from claude_preflight.native import Finder
from claude_preflight.records import dataclass, field
from claude_preflight.run import Run

# Files we open are read in chunks; nothing is ever read past the caller's limit.
_CHUNK = 1 << 20
# Opening a FIFO never blocks, a tty never becomes ours (POSIX). Windows has neither flag nor FIFOs in the
# filesystem; O_BINARY keeps its C runtime from translating line ends.
_NO_BLOCK = getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)


class TooLarge(Exception):
    """A file is larger than the caller's limit (its size is in .size)."""

    def __init__(self, path: Path, size: int) -> None:
        super().__init__(f"{path}: {size} bytes")
        self.path, self.size = path, size


class NotRegularFile(Exception):
    """A path names a directory, FIFO, socket or device where a file was expected."""

    def __init__(self, path: Path, kind: str) -> None:
        super().__init__(f"{path} is a {kind}")
        self.path, self.kind = path, kind


@dataclass(frozen=True)
class RunResult:
    argv: tuple[str, ...]
    returncode: int | None  # None: timed out and killed
    stdout: str
    stderr: str
    seconds: float

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    @property
    def error_line(self) -> str:
        """What went wrong, in one line: the first line of stderr, or the exit code."""
        return (self.stderr.strip() or f"exit {self.returncode}").splitlines()[0]


def file_kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISREG, "regular file"),
        (stat.S_ISDIR, "directory"),
        (stat.S_ISFIFO, "FIFO (named pipe)"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISLNK, "symbolic link"),
    ):
        if test(mode):
            return name
    return "special file"


PLATFORMS = ("linux", "darwin", "win32")
# Where a system's own commands live (dmesg, sysctl, security, launchctl, ...): under --sysroot, stand-ins are
# looked up here and only here, so a simulation never runs this machine's tools.
SYSTEM_DIRS = ("/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin", "/opt/homebrew/bin")


def current_platform() -> str:
    """linux, darwin or win32, as Claude Code names them (process.platform)."""
    return next((name for name in PLATFORMS if sys.platform.startswith(name)), "linux")


Cancelled = children.Cancelled  # raised by Env.start_piped once the run is stopping


def stopping() -> bool:
    """The run is being stopped (interrupt, end): start nothing more."""
    return children.cancelled.is_set()


# Modes for Env.access, so probes need no os module.
READABLE, WRITABLE, EXECUTABLE = os.R_OK, os.W_OK, os.X_OK
DEFAULT_PATH = os.defpath  # the PATH a process gets when none is set


@dataclass(frozen=True)
class Env:
    home: Path
    project: Path
    sysroot: Path = Path("/")
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    platform: str = field(default_factory=current_platform)  # --platform: the system a simulation plays
    this_run: Run = field(default_factory=Run, compare=False, repr=False)  # what this run gathers and learns

    # -- where Claude Code keeps things ------------------------------------------------------
    @property
    def config_dir(self) -> Path:
        """~/.claude, or CLAUDE_CONFIG_DIR as Claude Code honours it."""
        custom = self.environ.get("CLAUDE_CONFIG_DIR")
        if custom:
            return self.expand(custom)
        return self.home / ".claude"

    @property
    def user_state_file(self) -> Path:
        """~/.claude.json; with CLAUDE_CONFIG_DIR set it lives inside that directory."""
        if self.environ.get("CLAUDE_CONFIG_DIR"):
            return self.config_dir / ".claude.json"
        return self.home / ".claude.json"

    @property
    def tmp_dir(self) -> Path:
        if self.platform == "win32":  # Node's os.tmpdir() on Windows: TEMP, then TMP, then %SystemRoot%\temp
            spelled = self.environ.get("TEMP") or self.environ.get("TMP")
            if spelled:
                return self.win_path(spelled) if spelled[1:3] in (":\\", ":/") else Path(spelled)
            if not self.environ.get("TMPDIR"):  # a simulation names its temp dir as on Linux
                return self.win_path((self.environ.get("SystemRoot") or r"C:\Windows") + r"\temp")
        return Path(self.environ.get("TMPDIR") or "/tmp")

    def expand(self, path: str) -> Path:
        """Expand a leading ~ against this Env's home (not the real one)."""
        if path == "~" or path.startswith("~/"):
            return self.home / path[2:]
        return Path(path)

    def sys_path(self, path: str) -> Path:
        """A system path (/proc/..., /etc/...) under the sysroot."""
        return self.sysroot / path.lstrip("/")

    def win_path(self, path: str) -> Path:
        """A fixed Windows path (C:\\Program Files\\...): itself on Windows; in a simulation the sysroot plays
        drive C:, so C:\\Program Files\\ClaudeCode is <sysroot>/Program Files/ClaudeCode."""
        parts = [p for p in path.replace("\\", "/").split("/") if p]
        if parts and len(parts[0]) == 2 and parts[0].endswith(":"):
            drive, parts = parts[0], parts[1:]
        else:
            drive = "C:"
        if self.simulated or self.platform != "win32":
            return self.sysroot.joinpath(*parts)
        return Path(drive + "\\", *parts)

    @property
    def managed_dir(self) -> Path:
        """Where managed (policy) settings, managed-mcp.json and CLAUDE.md live, as Claude Code 2.1.332 hard-codes
        it per platform (under the sysroot in a simulation)."""
        if self.platform == "win32":
            return self.win_path(r"C:\Program Files\ClaudeCode")
        if self.platform == "darwin":
            return self.sys_path("/Library/Application Support/ClaudeCode")
        return self.sys_path("/etc/claude-code")

    def state_key(self, path: Path) -> str:
        """A folder as a key of ~/.claude.json `projects`: on Windows the CLI writes and looks up C:/Users/me/app
        (forward slashes; anthropics/claude-code#73317, #90041), so a backslash key is another folder to it."""
        return str(path).replace("\\", "/") if self.platform == "win32" else str(path)

    def shell_argv(self, command: str) -> list[str]:
        """How Claude Code runs a settings command (apiKeyHelper) with Node's `shell: true`: /bin/sh -c on POSIX,
        %ComSpec% /d /s /c on Windows (cmd.exe when ComSpec is unset)."""
        if self.platform == "win32":
            return [self.environ.get("ComSpec") or self.environ.get("COMSPEC") or "cmd.exe", "/d", "/s", "/c", command]
        return ["/bin/sh", "-c", command]

    def shown(self, path: Path) -> str:
        """A path as a person would type it: ~ for this Env's home."""
        try:
            return "~/" + str(Path(path).relative_to(self.home))
        except ValueError:
            return str(path)

    # -- identity ----------------------------------------------------------------------------
    @property
    def uid(self) -> int:
        """This user's effective uid; -1 on Windows, which has none (SIDs and ACLs instead)."""
        return os.geteuid() if hasattr(os, "geteuid") else -1

    @staticmethod
    def user_name(uid: int) -> str:
        try:
            import pwd  # POSIX only: imported here so that this module loads on Windows
        except ImportError:
            return os.environ.get("USERNAME") or f"uid {uid}"
        try:
            return pwd.getpwuid(uid).pw_name
        except KeyError:
            return f"uid {uid}"

    @staticmethod
    def nofile_limit() -> tuple[int | None, int | None]:
        """The soft and hard RLIMIT_NOFILE of this process (what Claude Code started from here inherits)."""
        try:
            import resource  # POSIX only; Windows has no RLIMIT_NOFILE (its handle limit is not a ulimit)
        except ImportError:
            return None, None
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        unlimited = resource.RLIM_INFINITY
        return (None if soft == unlimited else soft), (None if hard == unlimited else hard)

    @staticmethod
    def stdin_is_tty() -> bool:
        import sys

        return sys.stdin is not None and sys.stdin.isatty()

    @staticmethod
    def machine() -> str:
        import platform

        return platform.machine()

    @staticmethod
    def now() -> float:
        return time.time()

    # -- files -------------------------------------------------------------------------------
    @staticmethod
    def stat(path: Path, follow: bool = True) -> os.stat_result:
        return os.stat(path, follow_symlinks=follow)

    @staticmethod
    def access(path: Path, mode: int) -> bool:
        return os.access(path, mode)

    @staticmethod
    def statvfs(path: Path) -> os.statvfs_result:
        return os.statvfs(path)

    @staticmethod
    def disk_space(path: Path) -> tuple[int, int, int, int]:
        """Free bytes, total bytes, free inodes and total inodes (0, 0 where not counted: Windows, btrfs)."""
        if not hasattr(os, "statvfs"):  # Windows: GetDiskFreeSpaceEx through shutil; NTFS has no inode count
            usage = shutil.disk_usage(path)
            return usage.free, usage.total, 0, 0
        vfs = os.statvfs(path)
        return vfs.f_bavail * vfs.f_frsize, vfs.f_blocks * vfs.f_frsize, vfs.f_favail, vfs.f_files

    @staticmethod
    def read_bytes(path: Path, limit: int) -> bytes:
        """Read a regular file, never more than `limit` bytes, never blocking."""
        with Env.open_regular(path) as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > limit:
                raise TooLarge(Path(path), size)
            chunks, total = [], 0
            while total <= limit:
                chunk = handle.read(min(_CHUNK, limit + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
            if total > limit:  # grew while we read
                raise TooLarge(Path(path), total)
            return b"".join(chunks)

    @staticmethod
    def open_regular(path: Path) -> BinaryIO:
        """An unbuffered reader of a regular file, never blocking.

        O_NONBLOCK makes opening a FIFO return at once, and fstat on the open descriptor tells
        what it really is (no race with a stat before the open): anything else raises NotRegularFile.
        """
        fd = os.open(path, os.O_RDONLY | _NO_BLOCK | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise NotRegularFile(Path(path), file_kind(info.st_mode))
        except BaseException:
            os.close(fd)
            raise
        return os.fdopen(fd, "rb", buffering=0)

    @staticmethod
    def pread(fd: int, size: int, offset: int) -> bytes:
        """Up to `size` bytes at `offset` of an open file, leaving its position where it was."""
        return pread(fd, size, offset)

    @staticmethod
    def finder(buffer: bytearray) -> Finder:
        """buffer.find(needle, start, end) by the fastest search this machine has (see native.py)."""
        return native.finder(buffer)

    @staticmethod
    def cpu_count() -> int:
        return os.cpu_count() or 1

    def share_out(self, function, common: tuple, tasks: list, processes: int, timeout: float | None = None):
        """[function(*common, task) for task in tasks] on `processes` CPUs, begun: the worker processes start now
        and .finish() returns the results (see workers.Sharing); within `timeout` and the run's time."""
        from claude_preflight import workers

        bounds = [t for t in (timeout, self.this_run.remaining()) if t is not None]
        return workers.Sharing(function, common, tasks, processes, min(bounds) if bounds else None)

    # -- the only writes (claude-preflight --fix) --------------------------------------------
    @staticmethod
    def write_atomically(path: Path, chunks: Iterable[bytes], mode: int, unchanged: Stamp | None = None) -> None:
        """Replace a file: write a temp file beside it, fsync, give it `mode`, rename over the original.

        With `unchanged` (the size and mtime the caller read), the original must still be that file when the
        rename comes, or nothing is replaced (FileChanged). Bytes a writer appended to the original between that
        last look and the rename are carried over to the new file, so no record is ever lost.
        """
        path = Path(path)
        original = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)) if unchanged else None
        try:
            with _temp_beside(path) as (temp, out):
                for chunk in chunks:
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
                os.chmod(temp, stat.S_IMODE(mode))
                if original is not None:
                    _still(path, original, unchanged)
                if not _RENAME_OPEN_FILES:  # Windows: the late bytes go in first, then both files are let go
                    if original is not None:
                        _append_late_bytes(original, unchanged.size, out)
                        os.close(original)
                        original = None
                    out.close()
                os.replace(temp, path)
            if original is not None:
                _carry_over(path, original, unchanged.size)
        finally:
            if original is not None:
                os.close(original)

    @staticmethod
    def copy_exclusive(source: Path, target: Path) -> None:
        """Copy bytes and mode to a new file; never overwrite one that exists (a backup stays a backup).

        Written to a temp file and linked into place: the target exists only once it is complete.
        """
        target = Path(target)
        with open(source, "rb") as src, _temp_beside(target) as (temp, out):
            shutil.copyfileobj(src, out, _CHUNK)
            out.flush()
            os.fsync(out.fileno())
            shutil.copymode(source, temp)
            if not _RENAME_OPEN_FILES:
                out.close()
            os.link(temp, target)  # FileExistsError when taken: never overwrites

    def read_text(self, path: Path, limit: int = 1 << 20) -> str:
        """A small text file (/proc, /sys, config); bytes that are not UTF-8 are replaced."""
        return self.read_bytes(path, limit).decode("utf-8", "replace")

    @staticmethod
    def real_path(path: Path) -> Path:
        """The path with symlinks resolved; the path itself when that fails (a symlink loop)."""
        try:
            return Path(path).resolve()
        except (OSError, RuntimeError):
            return Path(path)

    @staticmethod
    def exists(path: Path) -> bool:
        return os.path.lexists(path)

    # -- the process table: this machine's, or the one a --sysroot tree simulates ----------------------
    @property
    def own_pid(self) -> int:
        """This process (a simulation has no process of ours in its table, so nothing matches)."""
        return -1 if self.simulated else os.getpid()

    @property
    def simulated(self) -> bool:
        """A --sysroot run: facts come from the tree, never from this machine (psutil, the real /proc)."""
        return len(Path(self.sysroot).parts) > 1  # "/" here, "C:\\" (what --sysroot / becomes) on Windows: real

    def process_table(self) -> dict[int, tuple[str, int]]:
        """pid -> (name, parent pid) of every process: one pass over /proc (the sysroot's in a simulation)."""
        if self.simulated and self.platform == "darwin":
            return {pid: (row.name, row.ppid) for pid, row in _ps_rows(self).items()}
        if self.simulated or _linux_procfs():  # on Linux /proc itself: psutil's import alone costs more
            return _procfs_table(self)
        import psutil

        return {
            p.info["pid"]: (p.info["name"] or "", p.info["ppid"] or 0)
            for p in psutil.process_iter(["pid", "name", "ppid"], ad_value="")
        }

    def process_details(self, pid: int, attrs: list[str]) -> dict | None:
        """psutil-named attributes of one process (None where denied); None when it is gone."""
        if self.simulated and self.platform == "darwin":
            return _ps_details(self, pid, attrs)
        if self.simulated:
            return _procfs_details(self, pid, attrs)
        import psutil

        # psutil refuses names this system lacks (uids, terminal on Windows): those read as None, like a denial.
        valid = getattr(psutil, "_as_dict_attrnames", None)  # what as_dict accepts here (else: what Process has)
        offered = [name for name in attrs if (name in valid if valid is not None else hasattr(psutil.Process, name))]
        try:
            found = psutil.Process(pid).as_dict(offered, ad_value=None)
        except psutil.Error:
            return None
        return {name: found.get(name) for name in attrs}

    def pid_exists(self, pid: int) -> bool:
        if self.simulated and self.platform == "darwin":
            return pid in _ps_rows(self)
        if self.simulated:
            return self.exists(self.sys_path(f"/proc/{pid}"))
        if _linux_procfs():
            return _linux_pid_exists(pid)
        import psutil

        return psutil.pid_exists(pid)

    def children(self, pid: int, table: dict[int, tuple[str, int]] | None = None) -> list[dict]:
        """All descendants of a process, with pid, name and RSS, found in one process table (given or read)."""
        table = self.process_table() if table is None else table
        below: dict[int, list[int]] = {}
        for child, (_, parent) in table.items():
            below.setdefault(parent, []).append(child)
        found, stack = [], list(below.get(pid, ()))
        while stack:
            kid = stack.pop()
            details = self.process_details(kid, ["memory_info"])
            if details is not None:
                memory = details.get("memory_info")
                found.append({"pid": kid, "name": table[kid][0], "rss": memory.rss if memory else 0})
            stack.extend(below.get(kid, ()))
        return sorted(found, key=lambda k: k["pid"])

    @staticmethod
    def scandir(path: Path) -> list[os.DirEntry]:
        with os.scandir(path) as entries:
            return list(entries)

    @staticmethod
    def list_errno(directory: Path) -> int | None:
        """Open a directory and read its first entry: None when that works, else the errno (EPERM from macOS
        privacy protection, TCC, even where the mode bits allow; EACCES from the mode bits)."""
        try:
            with os.scandir(directory) as entries:
                next(entries, None)
        except OSError as exc:
            return exc.errno
        return None

    def entries(self, directory: Path) -> list[tuple[Path, os.stat_result]]:
        """A directory's entries with their lstat; [] when it cannot be listed, vanished entries left out."""
        try:
            listing = self.scandir(directory)
        except OSError:
            return []
        found = []
        for entry in listing:
            try:
                found.append((Path(entry.path), entry.stat(follow_symlinks=False)))
            except OSError:
                continue
        return found

    @staticmethod
    def named_entries(directory: Path) -> Iterator[tuple[str, os.stat_result]]:
        """A directory's entry names with their lstat, as a stream (no Path per entry: a history has 100k);
        nothing when it cannot be listed, vanished entries left out."""
        try:
            listing = os.scandir(directory)
        except OSError:
            return
        with listing:
            for entry in listing:
                try:
                    yield entry.name, entry.stat(follow_symlinks=False)
                except OSError:
                    continue

    def walk(self, root: Path, limit: int) -> Iterator[tuple[Path, os.stat_result]]:
        """Every entry below root with its lstat, depth first, at most `limit` entries.

        Never follows symlinks (no loops); unreadable directories are passed over.
        """
        stack, seen = [Path(root)], 0
        while stack:
            for path, info in self.entries(stack.pop()):
                yield path, info
                seen += 1
                if seen >= limit:
                    return
                if stat.S_ISDIR(info.st_mode):
                    stack.append(path)

    # -- processes ---------------------------------------------------------------------------
    # -- the network and piped processes (probes never touch sockets or subprocess themselves) ----------
    def exchange(self, url: str, **options) -> net.Exchange:
        """One timed HTTP(S) exchange with this Env's proxy and CA settings (net.exchange; never raises)."""
        return net.exchange(url, environ=options.pop("environ", self.environ), **options)

    @staticmethod
    def is_loopback(host: str) -> bool:
        return net.is_loopback(host)

    @staticmethod
    def certificate_subject(pem: str) -> str | None:
        return net.certificate_subject(pem)

    @staticmethod
    def start_piped(argv: list[str], environ: dict[str, str], cwd: Path | None) -> subprocess.Popen:
        """A process with pipes on stdin, stdout and stderr, registered to be killed with its descendants
        (children.release). Raises OSError/ValueError as Popen does, children.Cancelled when the run stops."""
        pipe = subprocess.PIPE
        return children.spawn(argv, environ, stdin=pipe, stdout=pipe, stderr=pipe, cwd=cwd)

    @staticmethod
    def release(proc: subprocess.Popen) -> None:
        children.release(proc)

    @staticmethod
    def wait(proc: subprocess.Popen, timeout: float) -> int | None:
        """The exit code within `timeout`, None while it still runs."""
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    @staticmethod
    def memory_figures() -> tuple[int, int, int, int]:
        """(total, available, swap total, swap free) from psutil, where there is no /proc/meminfo."""
        import psutil

        vm, swap = psutil.virtual_memory(), psutil.swap_memory()
        return vm.total, vm.available, swap.total, swap.free

    @staticmethod
    def is_file(path: Path) -> bool:
        try:
            return os.path.isfile(path)
        except (ValueError, OSError):
            return False

    @staticmethod
    def normpath(path: str) -> Path:
        """A path with `..` and `.` folded as text (not resolved on disk), as Node's path.resolve does."""
        return Path(os.path.normpath(path))

    def which(self, name: str, path: str | None = None) -> str | None:
        """Where `name` is found on `path` (this Env's PATH by default); None for a name that cannot be one."""
        if "\0" in name:
            return None
        try:
            return shutil.which(name, path=path if path is not None else self.environ.get("PATH", os.defpath))
        except (ValueError, OSError):  # a PATH entry with a NUL byte or a lone surrogate
            return None

    def path_dirs(self) -> list[str]:
        """This Env's PATH, split as this machine writes it (';' on Windows, ':' in a simulation on Linux)."""
        return [d for d in self.environ.get("PATH", "").split(os.pathsep) if d]

    def system_command(self, name: str) -> str | None:
        """A system tool: on PATH here; under --sysroot, the stand-in in the tree's system or PATH directories
        (never this machine's own tool in a simulation)."""
        if not self.simulated:
            return self.which(name)
        if self.platform == "win32":  # C:\Windows\System32\reg.exe and its kin, under the tree
            system32 = self.win_path(r"C:\Windows\System32")
            found = (system32 / n for n in (f"{name}.exe", name))
            return next((str(c) for c in found if self.is_executable_file(c)), None)
        path_dirs = [d for d in self.environ.get("PATH", "").split(os.pathsep) if d.startswith("/")]
        for directory in dict.fromkeys((*SYSTEM_DIRS, *path_dirs)):
            candidate = self.sys_path(directory) / name
            if self.is_executable_file(candidate):
                return str(candidate)
        return None

    @staticmethod
    def is_executable_file(path: Path) -> bool:
        try:
            return os.path.isfile(path) and os.access(path, os.X_OK)
        except (ValueError, OSError):
            return False

    def run(self, argv: list[str], timeout: float) -> RunResult:
        """Run a command in its own session; it and everything it started is killed when it ends or times out.

        Raises OSError when it cannot start: missing, not executable, a NUL byte or a lone surrogate in an
        argument or variable, or the run is stopping.
        """
        start = time.monotonic()
        try:
            proc = children.spawn(command_line(argv), dict(self.environ), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, errors="replace")  # fmt: skip
        except (ValueError, children.Cancelled) as exc:  # UnicodeEncodeError is a ValueError
            raise OSError(f"cannot run {argv[0]!r}: {exc or 'the run is stopping'}") from exc
        try:
            out, err = proc.communicate(timeout=timeout)
            code: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            children.release(proc)
            try:
                out, err = proc.communicate(timeout=2)
            except subprocess.TimeoutExpired:  # a descendant we could not find still holds the pipes
                out, err = "", ""
            code = None
        finally:
            children.release(proc)  # reap grandchildren left behind
        return RunResult(tuple(argv), code, out, err, time.monotonic() - start)


def command_line(argv: list[str], windows: bool = os.name == "nt") -> list[str] | str:
    """What Popen gets. On Windows a `%ComSpec% /d /s /c COMMAND` (Env.shell_argv) is one string built as Node
    builds it for `shell: true`: the command inside one pair of quotes, verbatim. Python's own quoting would turn
    the quotes of `"C:\\Program Files\\helper.exe" --get` into \\" that cmd.exe does not understand."""
    if windows and len(argv) == 5 and argv[1:4] == ["/d", "/s", "/c"]:
        return f'"{argv[0]}" /d /s /c "{argv[4]}"'
    return argv


def pread(fd: int, size: int, offset: int) -> bytes:
    """os.pread where the system has it; on Windows a seek and read that puts the position back."""
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    position = os.lseek(fd, 0, os.SEEK_CUR)
    try:
        os.lseek(fd, offset, os.SEEK_SET)
        chunks, left = [], size
        while left > 0:
            chunk = os.read(fd, left)
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.lseek(fd, position, os.SEEK_SET)


@dataclass(frozen=True)
class Stamp:
    """What a file was when it was read: a repair writes only if it still is."""

    size: int
    mtime: float


class FileChanged(Exception):
    """The file changed while it was being repaired: it was left alone."""


# POSIX renames onto and from files that are open; Windows refuses while any handle lacks FILE_SHARE_DELETE (ours
# from os.open never has it), so there the files are closed before the rename.
_RENAME_OPEN_FILES = os.name != "nt"

# Temp files of writes in progress. A write runs in a check's thread; when the run is interrupted the thread
# is abandoned, so the temp files are removed at exit (and its rename, if it still comes, fails harmlessly).
_IN_FLIGHT: set[str] = set()


@atexit.register
def _remove_temp_files() -> None:
    for name in list(_IN_FLIGHT):
        with contextlib.suppress(OSError):
            os.unlink(name)


@contextlib.contextmanager
def _temp_beside(path: Path):
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".preflight-tmp", dir=path.parent)
    _IN_FLIGHT.add(temp)
    try:
        with os.fdopen(fd, "wb") as out:
            yield temp, out
    finally:
        _IN_FLIGHT.discard(temp)
        with contextlib.suppress(OSError):
            os.unlink(temp)  # after a rename or a link, this name is already gone or no longer needed


def _still(path: Path, original: int, expected: Stamp) -> None:
    now, there = os.fstat(original), os.stat(path)
    same_file = (now.st_dev, now.st_ino) == (there.st_dev, there.st_ino)
    if not same_file or (now.st_size, now.st_mtime) != (expected.size, expected.mtime):
        raise FileChanged(f"{path} changed while it was being repaired (a session may be writing it)")


def _late_bytes(original: int, read_size: int) -> bytes:
    """What a writer appended to the original (an open descriptor) past the `read_size` bytes we read."""
    size = os.fstat(original).st_size
    return pread(original, size - read_size, read_size) if size > read_size else b""


def _append_late_bytes(original: int, read_size: int, out: BinaryIO) -> None:
    """The late bytes into the new file before the rename (Windows cannot rename a file that is open)."""
    late = _late_bytes(original, read_size)
    if late:
        out.write(late)
        out.flush()
        os.fsync(out.fileno())


def _carry_over(path: Path, original: int, read_size: int) -> None:
    """Append to the new file what a writer added to the old one after our last look (a tiny window)."""
    for _ in range(2):
        late = _late_bytes(original, read_size)
        if late:
            with open(path, "ab") as out:
                out.write(late)
            read_size += len(late)
        time.sleep(0.05)


# -- a simulated /proc (--sysroot): the same facts psutil gives, read from the tree ---------------------------
@dataclass(frozen=True)
class _Memory:
    rss: int


@dataclass(frozen=True)
class _Uids:
    real: int
    effective: int
    saved: int


def _linux_procfs() -> bool:
    """This machine is Linux with /proc mounted: its process facts are read there, as psutil reads them."""
    return sys.platform.startswith("linux") and os.path.isdir("/proc/self")


def _linux_pid_exists(pid: int) -> bool:
    """psutil.pid_exists on Linux: signal 0 reaches it, and it is a process, not another process's thread."""
    if pid <= 0:  # psutil: no process 0 in /proc's listing, and none below
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"Tgid:"):
                    return int(line.split()[1]) == pid
    except (OSError, ValueError, IndexError):
        pass
    try:
        return str(pid) in os.listdir("/proc")  # a thread's id is reachable under /proc but not listed there
    except OSError:
        return False


def _procfs_table(env: Env) -> dict[int, tuple[str, int]]:
    table = {}
    for path, _ in env.entries(env.sys_path("/proc")):
        if path.name.isdigit():
            stat_fields = _stat_fields(env, int(path.name))
            if stat_fields:
                table[int(path.name)] = (_full_name(env, int(path.name), stat_fields[0]), int(stat_fields[2]))
    return table


def _full_name(env: Env, pid: int, comm: str) -> str:
    """psutil's name() on Linux: the kernel keeps 15 characters of it; a longer one is taken from the command
    line when its first word's file name starts with those 15."""
    if len(comm) < 15:
        return comm
    try:
        raw = env.read_text(env.sys_path(f"/proc/{pid}/cmdline"))
    except OSError:
        return comm
    first = raw.split("\0", 1)[0] if "\0" in raw else raw.split(" ", 1)[0]
    extended = first.rsplit("/", 1)[-1]
    return extended if extended.startswith(comm) else comm


def _stat_fields(env: Env, pid: int) -> list[str] | None:
    """/proc/<pid>/stat split as the kernel writes it: the name in parentheses may hold spaces."""
    try:
        text = env.read_text(env.sys_path(f"/proc/{pid}/stat"))
    except OSError:
        return None
    head, _, rest = text.rpartition(")")
    if "(" not in head:
        return None
    return [head.split("(", 1)[1], *rest.split()]


def _procfs_details(env: Env, pid: int, attrs: list[str]) -> dict | None:
    fields = _stat_fields(env, pid)
    if fields is None:
        return None
    status = {}
    try:
        for line in env.read_text(env.sys_path(f"/proc/{pid}/status")).splitlines():
            key, _, value = line.partition(":")
            status[key] = value.split()
    except OSError:
        pass
    try:
        cmdline = [a for a in env.read_text(env.sys_path(f"/proc/{pid}/cmdline")).split("\0") if a]
    except OSError:
        cmdline = []
    uids = [int(u) for u in status.get("Uid", [])[:3] if u.isdigit()]
    facts = {
        "pid": pid,
        "ppid": int(fields[2]),
        "name": fields[0],
        "exe": cmdline[0] if cmdline else "",
        "cmdline": cmdline,
        "uids": _Uids(*uids) if len(uids) == 3 else None,
        "username": env.user_name(uids[0]) if uids else None,
        "create_time": _start_time(env, fields),
        "memory_info": _Memory(int(status["VmRSS"][0]) * 1024) if status.get("VmRSS") else _Memory(0),
        "terminal": f"tty {fields[5]}" if len(fields) > 5 and fields[5] not in ("0", "-1") else None,
    }
    return {name: facts.get(name) for name in attrs}


def _start_time(env: Env, fields: list[str]) -> float | None:
    """Field 22 (start time in clock ticks since boot) plus the boot time from the tree's /proc/stat."""
    try:
        ticks = int(fields[20])
        boot = next(
            int(line.split()[1])
            for line in env.read_text(env.sys_path("/proc/stat")).splitlines()
            if line.startswith("btime ")
        )
    except (IndexError, ValueError, StopIteration, OSError):
        return None
    return boot + ticks / 100  # USER_HZ is 100 on every Linux Claude Code runs on


# -- a simulated Mac (--platform darwin --sysroot): the process table from the tree's `ps` stand-in -------------
# macOS has no /proc. Claude Code itself reads a process's start as `LC_ALL=C TZ=UTC ps -o lstart= -p <pid>`
# (procStart in ~/.claude/sessions/<pid>.json); the same columns give the whole table here.
PS_TABLE = ("-axo", "pid=,ppid=,uid=,rss=,tty=,lstart=,comm=")
PS_ARGS = ("-axo", "pid=,args=")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class _PsRow:
    pid: int
    ppid: int
    uid: int
    rss_kib: int
    tty: str | None
    start: float | None
    comm: str  # the executable's path (or name)
    args: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.comm.rsplit("/", 1)[-1][:16]  # p_comm: what psutil's name() gives on macOS


def lstart_text(when: float) -> str:
    """A start time as `LC_ALL=C TZ=UTC ps -o lstart=` prints it (what Claude Code records as procStart)."""
    t = time.gmtime(when)
    day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[t.tm_wday]
    return f"{day} {MONTHS[t.tm_mon - 1]} {t.tm_mday:2d} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} {t.tm_year}"


def _lstart_seconds(words: list[str]) -> float | None:
    """`Wed Dec  2 06:32:57 2026` (C locale, UTC) as epoch seconds, without this machine's locale."""
    try:
        _, month, day, clock, year = words
        hour, minute, second = (int(n) for n in clock.split(":"))
        return float(calendar.timegm((int(year), MONTHS.index(month) + 1, int(day), hour, minute, second)))
    except ValueError:
        return None


def _ps_run(env: Env, options: tuple[str, ...]) -> str:
    binary = env.system_command("ps")
    if not binary:
        return ""
    import dataclasses

    plain = dataclasses.replace(env, environ={**env.environ, "LC_ALL": "C", "TZ": "UTC"})
    try:
        run = plain.run([binary, *options], timeout=5)
    except OSError:
        return ""
    return run.stdout if run.returncode == 0 else ""


def _ps_rows(env: Env) -> dict[int, _PsRow]:
    args: dict[int, tuple[str, ...]] = {}
    for line in _ps_run(env, PS_ARGS).splitlines():
        pid, _, rest = line.strip().partition(" ")
        if pid.isdigit():
            args[int(pid)] = tuple(rest.split())
    rows = {}
    for line in _ps_run(env, PS_TABLE).splitlines():
        fields = line.split(None, 10)  # pid ppid uid rss tty + 5 lstart words + comm (may hold spaces)
        if len(fields) < 11 or not all(f.lstrip("-").isdigit() for f in fields[:4]):
            continue
        start = _lstart_seconds(fields[5:10])
        pid = int(fields[0])
        tty = None if fields[4] in ("??", "-") else fields[4]
        rows[pid] = _PsRow(pid, int(fields[1]), int(fields[2]), int(fields[3]), tty, start, fields[10].strip(),
                           args.get(pid, ()))  # fmt: skip
    return rows


def _ps_details(env: Env, pid: int, attrs: list[str]) -> dict | None:
    row = _ps_rows(env).get(pid)
    if row is None:
        return None
    facts = {
        "pid": pid,
        "ppid": row.ppid,
        "name": row.name,
        "exe": row.comm if row.comm.startswith("/") else "",
        "cmdline": list(row.args),
        "uids": _Uids(row.uid, row.uid, row.uid),
        "username": env.user_name(row.uid),
        "create_time": row.start,
        "memory_info": _Memory(row.rss_kib * 1024),
        "terminal": row.tty,
    }
    return {name: facts.get(name) for name in attrs}
