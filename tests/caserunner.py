"""Run checks over case directories: tests/cases/<check id>/<case>/.

A case directory holds an input tree (home/, project/, sysroot/; any may be absent) and case.json:

  setup    operations git cannot store: {"op": "fixture"|"mkdir"|"fifo"|"symlink"|"sparse"|"write"|"age"
           |"chmod"|"chown"|"head"|"cut"|"grow"|"image"|"long-line", "path": ...}; "fixture" copies from
           tests/fixtures/real-claude/; head/cut/grow/image/long-line damage a transcript (transcript_ops.py)
  project  the project directory relative to the case root (default "project")
  switches {"fix": true, "all_sessions": true}: the command-line switches of the run
  env      extra environment ({root} is the materialised case root; TMPDIR defaults to {root}/tmp)
  options  threshold overrides, as with `-o name=value`
  user     "unprivileged": run as uid 65534 in a forked child (root bypasses permission checks)
  platform "linux", "darwin" or "win32": the system the run judges (Env.platform; default: this one)
  expect   {target id or "*": {"status": ..., "words": [...]}}; "-" is the target of an unparametrised check
  others   status every unlisted target must have (optional)
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import claude_preflight.checks
import transcript_ops

from claude_preflight.checking import REGISTRY, run_targets
from claude_preflight.env import Env, current_platform
from claude_preflight.policy import Policy

CASES = Path(__file__).parent / "cases"
FIXTURES = Path(__file__).parent / "fixtures" / "real-claude"
NOBODY = 65534


def load_checks() -> None:
    for module in pkgutil.iter_modules(claude_preflight.checks.__path__):
        importlib.import_module(f"claude_preflight.checks.{module.name}")


def all_cases() -> list[Path]:
    return sorted(p.parent for p in CASES.glob("*/*/case.json"))


@dataclass
class Case:
    directory: Path
    spec: dict

    @property
    def check_id(self) -> str:
        return self.spec.get("check", self.directory.parent.name)

    @property
    def unprivileged(self) -> bool:
        return self.spec.get("user") == "unprivileged"

    def needs_root(self) -> bool:
        return any(op["op"] == "chown" for op in self.spec.get("setup", []))


def load(directory: Path) -> Case:
    return Case(directory, json.loads((directory / "case.json").read_text()))


def _apply(op: dict, root: Path) -> None:
    path = root / op["path"]
    kind = op["op"]
    if kind not in ("chmod", "chown", "age"):
        path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fixture":
        shutil.copyfile(FIXTURES / op["name"], path)
    elif kind == "mkdir":
        path.mkdir(parents=True, exist_ok=True)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink":
        path.symlink_to(op["to"])
    elif kind == "sparse":
        with open(path, "wb") as handle:
            handle.truncate(int(op["mb"] * 1e6))
    elif kind == "write":
        if "utf16" in op:
            data = op["utf16"].encode("utf-16")  # with a byte-order mark, as Windows tools write it
        elif "latin1" in op:
            data = op["latin1"].encode("latin-1")
        else:
            data = op["text"].replace("{root}", str(root)).encode()
        path.write_bytes(data)
    elif kind in transcript_ops.OPS:
        transcript_ops.OPS[kind](path, op)
    elif kind == "age":
        when = time.time() - op["days"] * 86400
        os.utime(path, (when, when), follow_symlinks=False)
    elif kind == "chmod":
        path.chmod(int(op["mode"], 8))
    elif kind == "chown":
        os.lchown(path, 0 if op["owner"] == "root" else NOBODY, 0 if op["owner"] == "root" else NOBODY)
    else:
        raise ValueError(f"unknown setup op {kind!r}")


def materialise(case: Case) -> Path:
    """Copy the case tree to a fresh root that an unprivileged user can reach, and apply its setup."""
    root = Path(tempfile.mkdtemp(prefix="preflight-case-"))
    root.chmod(0o755)
    for part in ("home", "project", "sysroot", "tmp"):
        source = case.directory / part
        if source.is_dir():
            shutil.copytree(source, root / part, symlinks=True)
        else:
            (root / part).mkdir()
    ops = case.spec.get("setup", [])
    for op in ops:
        if op["op"] not in ("chmod", "chown"):
            _apply(op, root)
    if case.unprivileged and os.geteuid() == 0:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
                os.lchown(name, NOBODY, NOBODY)
    for op in ops:
        if op["op"] in ("chmod", "chown"):
            _apply(op, root)
    return root


def remove(root: Path) -> None:
    for dirpath, dirnames, _ in os.walk(root):
        for name in dirnames:
            full = os.path.join(dirpath, name)
            if not os.path.islink(full):
                os.chmod(full, stat.S_IRWXU)
    os.chmod(root, stat.S_IRWXU)
    shutil.rmtree(root)


def build_env(case: Case, root: Path) -> Env:
    environ = {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(root / "home"), "TMPDIR": str(root / "tmp")}
    environ.update({k: v.format(root=root) for k, v in case.spec.get("env", {}).items()})
    project = root / case.spec.get("project", "project")
    project.mkdir(parents=True, exist_ok=True)
    platform = case.spec.get("platform") or current_platform()
    return Env(home=root / "home", project=project, sysroot=root / "sysroot", environ=environ, platform=platform)


def evaluate(check_id: str, env: Env, policy: Policy) -> dict[str, dict]:
    """Run one check over all its targets: {target id: {"status", "text"}}."""
    load_checks()
    out = {}
    for target, result in run_targets(REGISTRY[check_id], env, policy):
        out[str(target.id) if target is not None else "-"] = {"status": result.status.value, "text": result.text()}
    return out


def run_as_nobody(func, *args) -> dict:
    """Call func(*args) in a forked child that has dropped to uid/gid 65534; return its JSON result.

    Everything the checks import is imported before the fork: the child may not be able to read the
    interpreter's own files (here they live under /root), so a lazy import there would fail.
    """
    load_checks()
    import concurrent.futures.thread  # noqa: F401 - concurrent.futures imports this lazily

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        code = 1
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            payload = json.dumps(func(*args)).encode()
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
            code = 0
        except BaseException as exc:  # noqa: BLE001 - reported to the parent through the exit code
            os.write(2, f"unprivileged child failed: {exc!r}\n".encode())
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the unprivileged child failed (see stderr)"
    return json.loads(data)


def run_case(case: Case) -> tuple[dict[str, dict], Path]:
    root = materialise(case)
    env = build_env(case, root)
    policy = Policy.from_strings(case.spec.get("options", {}), **case.spec.get("switches", {}))
    if case.unprivileged and os.geteuid() == 0:
        return run_as_nobody(evaluate, case.check_id, env, policy), root
    return evaluate(case.check_id, env, policy), root
