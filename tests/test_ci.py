"""The CI templates in ci/: valid against their published schemas, and their exact command lines run here.

What cannot run here is said where it is skipped: there is no Docker engine (so no `container:` image is pulled and
the Dockerfile is not built), and nothing is installed with apt-get or `npm install -g` (the commands that would
change this machine). Every command line of ours in the templates is run as written, with `sh -e` as the runners
do, against a fake home; the variables a runner would set (image name, package source, venv folder) are set in the
environment, as GitHub, GitLab, devcontainers and `docker build --build-arg` pass them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import homes
import jsonschema
import pytest
from ruamel.yaml import YAML

import claude_preflight

ROOT = Path(__file__).resolve().parent.parent
CI = ROOT / "ci"
GITHUB = CI / "github" / "claude-preflight.yml"
GITLAB = CI / "gitlab" / "claude-preflight.gitlab-ci.yml"
DEVCONTAINER = CI / "devcontainer" / "devcontainer.json"
DOCKERFILE = CI / "docker" / "Dockerfile"
REPORT_SCHEMA = json.loads((Path(claude_preflight.__file__).parent / "claude-preflight-1.schema.json").read_text())
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
KEY = "sk-ant-api03-" + "C" * 40 + "-ci00TAIL"


def load_yaml(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text())


def validate(path: Path, *schema_args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(CHECK_JSONSCHEMA), *schema_args, str(path)], capture_output=True, text=True, timeout=120)


GITHUB_SCHEMA = ("--builtin-schema", "vendor.github-workflows")
GITLAB_SCHEMA = ("--builtin-schema", "vendor.gitlab-ci", "--data-transform", "gitlab-ci")


# -- schemas -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("template", "schema"),
    [(GITHUB, GITHUB_SCHEMA), (GITHUB, ("--builtin-schema", "custom.github-workflows-require-timeout")),
     (GITLAB, GITLAB_SCHEMA)],
    ids=["github-workflows", "github-require-timeout", "gitlab-ci"],
)  # fmt: skip
def test_template_is_valid_against_its_published_schema(template, schema):
    done = validate(template, *schema)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("template", "schema", "break_it"),
    [(GITHUB, GITHUB_SCHEMA, lambda doc: doc["jobs"]["preflight"].pop("runs-on")),
     (GITLAB, GITLAB_SCHEMA, lambda doc: doc["claude-preflight-fleet"].update(when="sometimes"))],
    ids=["github-without-runs-on", "gitlab-bad-when"],
)  # fmt: skip
def test_the_schema_check_catches_a_broken_template(template, schema, break_it, tmp_path):
    """The validation above is not vacuous: the same schema rejects the template with one key broken."""
    document = load_yaml(template)
    break_it(document)
    broken = tmp_path / template.name
    broken.write_text(json.dumps(document))
    done = validate(broken, *schema, "--force-filetype", "json")
    assert done.returncode == 1 and "validation error" in done.stdout


# -- the command lines, the same in both templates -----------------------------------------------------
def github_steps(job: str) -> list[str]:
    return [step["run"] for step in load_yaml(GITHUB)["jobs"][job]["steps"] if "run" in step]


def gitlab_script(job: str) -> list[str]:
    return load_yaml(GITLAB)[job]["script"]


def test_github_and_gitlab_run_the_same_command_lines():
    assert github_steps("preflight") == gitlab_script(".claude-preflight")
    assert github_steps("fleet") == gitlab_script("claude-preflight-fleet")
    github_images = load_yaml(GITHUB)["jobs"]["preflight"]["strategy"]["matrix"]["image"]
    gitlab_images = load_yaml(GITLAB)["claude-preflight"]["parallel"]["matrix"][0]["PREFLIGHT_IMAGE"]
    assert github_images == gitlab_images
    assert load_yaml(GITHUB)["jobs"]["preflight"]["container"]["image"] == "${{ matrix.image }}"
    assert load_yaml(GITLAB)[".claude-preflight"]["image"] == "$PREFLIGHT_IMAGE"


def test_github_publishes_junit_and_uploads_html_and_json_even_when_checks_fail():
    steps = load_yaml(GITHUB)["jobs"]["preflight"]["steps"]
    junit = next(s for s in steps if s.get("uses", "").startswith("mikepenz/action-junit-report@"))
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert junit["with"]["report_paths"] == "reports/*.xml" and upload["with"]["path"] == "reports/"
    assert junit["if"] == upload["if"] == "${{ !cancelled() }}"  # a failing check fails the step before them
    env = load_yaml(GITHUB)["jobs"]["preflight"]["env"]
    assert env["ANTHROPIC_API_KEY"] == "${{ secrets.ANTHROPIC_API_KEY }}"
    gitlab = load_yaml(GITLAB)[".claude-preflight"]["artifacts"]
    assert gitlab["when"] == "always" and gitlab["reports"]["junit"] == "reports/*.xml"


def sh(script: str, cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    """One step as the runner runs it: `sh -e` on the step's text (GitHub: `sh -e {0}` in a container)."""
    return subprocess.run(["sh", "-e", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def job_env(tmp_path_factory) -> dict[str, str]:
    """What a runner hands the job: the template's variables, HOME a fake home, the project checked out.

    CLAUDE_PREFLIGHT_PACKAGE is a wheel of this checkout (one of the forms the templates name); the jobs of this
    module share PREFLIGHT_VENV, as jobs on a runner that keeps /tmp do, so only the first installs the dependencies.
    """
    root = tmp_path_factory.mktemp("ci")
    home, project = homes.build(root / "job")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT), "-w", str(root / "wheel")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (root / "wheel").glob("claude_preflight-*.whl")
    return {
        "PATH": os.environ.get("PATH", os.defpath), "HOME": str(home), "LANG": "C.UTF-8", "PROJECT": str(project),
        "CLAUDE_PREFLIGHT_PACKAGE": str(wheel), "PREFLIGHT_VENV": str(root / "venv"), "PREFLIGHT_ARGS": "",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        # pip's cache stays the real one (a runner's cache action does the same): downloads once, not per fake home
        "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip"),
    }  # fmt: skip


def run_job(steps: list[str], env: dict[str, str], cwd: Path) -> list[subprocess.CompletedProcess]:
    done = []
    for script in steps:
        done.append(sh(script, cwd, env))
        if done[-1].returncode != 0:
            break
    return done


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def checks_of(report: Path) -> dict[str, dict]:
    document = json.loads(report.read_text())
    jsonschema.validate(document, REPORT_SCHEMA)
    return {c["id"] + (f"[{c['target']}]" if c["target"] else ""): c for c in document["checks"]}


def test_the_template_steps_install_run_and_report_then_merge(job_env, tmp_path):
    project = Path(job_env["PROJECT"])
    image = load_yaml(GITHUB)["jobs"]["preflight"]["strategy"]["matrix"]["image"][0]
    summary = tmp_path / "step-summary.md"
    env = job_env | {
        "PREFLIGHT_IMAGE": image, "GITHUB_STEP_SUMMARY": str(summary),
        "PREFLIGHT_FORMAT": load_yaml(GITHUB)["jobs"]["preflight"]["env"]["PREFLIGHT_FORMAT"],
    }  # fmt: skip
    bootstrap, install, run = run_job(github_steps("preflight"), env, project)
    assert bootstrap.returncode == 0 and bootstrap.stderr == ""  # python3 and git are here: nothing installed
    assert install.returncode == 0, install.stderr
    assert run.returncode in (0, 1), run.stdout + run.stderr  # 1: this machine fails a check (no claude, ...)
    name = re.sub(r"[^A-Za-z0-9._-]", "_", image)
    reports = project / "reports"
    assert sorted(p.name for p in reports.iterdir()) == sorted(f"{name}.{ext}" for ext in ("html", "json", "md", "xml"))
    assert summary.read_text() == (reports / f"{name}.md").read_text()  # the job summary, and the same file kept
    if run.returncode == 1:
        assert any(line.startswith("::error ") for line in run.stdout.splitlines())
    document = json.loads((reports / f"{name}.json").read_text())
    assert document["host"]["label"] == image
    checks = checks_of(reports / f"{name}.json")
    assert checks["network.api-key"]["status"] == "skip" and "offline" in checks["network.api-key"]["summary"]
    assert checks["config.file[" + job_env["HOME"] + "/.claude/settings.json]"]["status"] == "ok"  # the fake home
    cases = ET.parse(reports / f"{name}.xml").getroot().iter("testcase")
    assert len(list(cases)) == len(checks)
    assert "preflight-summary" in (reports / f"{name}.html").read_text()

    # The fleet job: download-artifact puts each job's reports in a folder of its own under reports/.
    fleet_dir = tmp_path / "fleet-job"
    (fleet_dir / "reports" / "claude-preflight-0").mkdir(parents=True)
    shutil.copy(reports / f"{name}.json", fleet_dir / "reports" / "claude-preflight-0")
    shutil.copy(reports / f"{name}.html", fleet_dir / "reports" / "claude-preflight-0")
    _, install, merge = run_job(github_steps("fleet"), env, fleet_dir)
    assert merge.returncode == 0, merge.stderr
    fleet = json.loads((fleet_dir / "fleet" / "fleet.json").read_text())
    assert [h["label"] for h in fleet["hosts"]] == [image]
    assert (fleet_dir / "fleet" / "fleet.html").exists()


def test_with_an_api_key_the_run_is_not_offline_and_the_key_stays_out(job_env, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    steps = gitlab_script(".claude-preflight")
    env = job_env | {
        "PREFLIGHT_IMAGE": "python:3.12-slim", "ANTHROPIC_API_KEY": KEY,
        "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{closed_port()}",  # a refused connection, not the real API
        "PREFLIGHT_ARGS": "-k network.api-key",
    }  # fmt: skip
    bootstrap, install, run = run_job(steps, env, project)
    assert install.returncode == 0, install.stderr
    assert run.returncode == 1, run.stdout + run.stderr
    report = project / "reports" / "python_3.12-slim.json"
    check = checks_of(report)["network.api-key"]
    assert check["status"] == "fail" and "offline" not in check["summary"]
    for written in (project / "reports").iterdir():
        assert KEY[:-4] not in written.read_text()
    assert KEY[:-4] not in run.stdout + run.stderr


def test_install_step_says_what_to_set_without_a_package(job_env, tmp_path):
    install = github_steps("preflight")[1]
    done = sh(install, tmp_path, job_env | {"CLAUDE_PREFLIGHT_PACKAGE": ""})
    assert done.returncode == 1 and "set CLAUDE_PREFLIGHT_PACKAGE" in done.stderr
    assert not (tmp_path / "venv").exists()


# -- devcontainer and Dockerfile ---------------------------------------------------------------------
def jsonc(path: Path) -> dict:
    """devcontainer.json is JSON with comments; ours has whole-line // comments only."""
    return json.loads("\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("//")))


def test_devcontainer_post_create_installs_and_runs_once(job_env, tmp_path):
    config = jsonc(DEVCONTAINER)
    home = tmp_path / "home"  # the container user's home: postCreate installs there
    shutil.copytree(job_env["HOME"], home, symlinks=True)
    project = tmp_path / "workspace"
    project.mkdir()
    env = job_env | {"HOME": str(home)}
    assert set(config["containerEnv"]) == {"CLAUDE_PREFLIGHT_PACKAGE"}
    done = sh(config["postCreateCommand"], project, env)  # devcontainers run a string command with /bin/sh -c
    assert done.returncode == 0, done.stdout + done.stderr
    reports = home / ".cache" / "claude-preflight" / "reports"
    checks = checks_of(reports / "claude-preflight.json")
    assert json.loads((reports / "claude-preflight.json").read_text())["host"]["label"] == "devcontainer:workspace"
    assert checks["network.api-key"]["status"] == "skip"
    assert (home / ".local" / "bin" / "claude-preflight").resolve().is_file()
    assert not (project / "reports").exists()  # nothing written into the user's workspace
    if any(c["status"] == "fail" for c in checks.values()):
        assert "claude-preflight found problems: see ~/.cache/claude-preflight/reports/" in done.stdout


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped, as docker reads them."""
    text = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("#"))
    text = re.sub(r"\\\n", " ", text)
    return [tuple(line.strip().split(None, 1)) for line in text.splitlines() if line.strip()]


def test_dockerfile_parses_and_declares_what_it_uses():
    instructions = dockerfile_instructions(DOCKERFILE)
    assert instructions[0][0] == "FROM"
    declared = {arg.split("=")[0] for op, arg in instructions if op == "ARG"}
    for op, args in instructions:
        if op == "RUN":
            assert subprocess.run(["sh", "-n", "-c", args], capture_output=True, timeout=10).returncode == 0, args
            used = set(re.findall(r"\$\{?([A-Z_]+)", args))
            assert used <= declared | {"PATH"}, used - declared
    assert instructions[-1] == ("USER", "node")  # the image does not stay root


def test_dockerfile_install_and_gate_lines_run_as_written(job_env, real_claude, tmp_path):
    """The two RUN lines of ours run as `docker build` would (ARGs are environment variables of RUN), with the
    real Claude Code on the PATH where `npm install -g` would put it. apt-get and npm -g are not run here."""
    runs = [args for op, args in dockerfile_instructions(DOCKERFILE) if op == "RUN"]
    install, gate = (r for r in runs if "claude-preflight" in r)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    env = job_env | {
        "PREFLIGHT_BIN": str(bin_dir),
        "PATH": f"{bin_dir}:{real_claude.parent}:{job_env['PATH']}",
        "PYTEST_ADDOPTS": "-v",  # only to see which checks ran: the gate deletes its reports when it passes
    }  # fmt: skip
    done = sh(install, tmp_path, env)
    assert done.returncode == 0, done.stderr
    assert (bin_dir / "claude-preflight").resolve() == (
        Path(env["PREFLIGHT_VENV"]) / "bin" / "claude-preflight"
    ).resolve()
    reports = [Path("/tmp/preflight.json"), Path("/tmp/preflight.html")]
    try:
        done = sh(gate, tmp_path, env, timeout=300)
        ran = set(re.findall(r"^\S+ [A-Z]+ +(install\.[\w-]+)", done.stdout, re.MULTILINE))  # -v: one line a result
        assert {"install.claude", "install.known-bad", "install.ripgrep", "install.node"} <= ran, done.stdout
        assert not ran & {"install.cpu", "install.os-limits", "install.terminal"}  # the build machine's
        # With the real Claude Code on the PATH the gate passes here; a failure would have to be a named FAIL.
        assert done.returncode == 0, done.stdout + done.stderr
        assert not any(p.exists() for p in reports)
    finally:
        for path in reports:
            path.unlink(missing_ok=True)


def test_the_fleet_job_installs_git_where_the_image_has_none(job_env, tmp_path):
    """python:3.12-slim has no git, and a git+https:// package needs it: the fleet job's first step installs it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("python3", "id", "sh"):
        (bin_dir / tool).symlink_to(shutil.which(tool) if tool != "python3" else sys.executable)
    log = tmp_path / "apt.log"
    for tool in ("apt-get", "sudo"):
        body = f'echo "$@" >> {log}' if tool == "apt-get" else 'exec "$@"'
        (bin_dir / tool).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / tool).chmod(0o755)
    bootstrap = gitlab_script("claude-preflight-fleet")[0]
    assert bootstrap == github_steps("fleet")[0]
    done = sh(bootstrap, tmp_path, {"PATH": str(bin_dir), "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert "install -y -qq python3 python3-venv git" in log.read_text()
