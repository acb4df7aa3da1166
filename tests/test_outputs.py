"""CI outputs: GitHub annotations and job summary, --markdown, JUnit named by check id and target."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import homes
from test_plugin import run_suite

from claude_preflight.report import Record, fenced, github_annotations, md


def test_github_format_annotates_and_appends_the_job_summary(pytester, tmp_path, monkeypatch):
    home, project = homes.build(tmp_path / "d", damaged=True)
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    markdown = tmp_path / "out" / "summary.md"
    result = run_suite(pytester, home, project, "--format", "github", "--markdown", str(markdown))
    settings = home / ".claude" / "settings.json"
    result.stdout.fnmatch_lines(
        [
            f"::error file={settings},line=3,col=28,title=claude-preflight config.file[[]user-settings[]]::"
            "user settings is not valid JSON*%0AClaude Code ignores this whole file*"
        ]  # fmt: skip
    )
    assert any(
        line.startswith("::warning title=claude-preflight config.corrupt-backups::") for line in result.stdout.lines
    )
    text = summary.read_text()
    assert text.startswith("earlier step\n## claude-preflight: FAIL\n")  # appended, as GitHub asks
    assert "#### ✗ FAIL config.file\\[user-settings\\]" in text and "**Remediation**" in text
    assert markdown.read_text() == text.removeprefix("earlier step\n")
    result.stdout.fnmatch_lines([f"Markdown summary: {markdown}"])


def test_markdown_without_github_format_leaves_the_job_summary_alone(pytester, tmp_path, monkeypatch):
    home, project = homes.build(tmp_path / "h")
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    markdown = tmp_path / "summary.md"
    result = run_suite(pytester, home, project, "--markdown", str(markdown))
    assert not summary.exists() and "## claude-preflight: OK" in markdown.read_text()
    assert not any(line.startswith("::") for line in result.stdout.lines)


def test_markdown_and_annotations_escape_names():
    hostile = Record("mcp.server", "t", "mcp", "x", "fail", "<img src=x onerror=alert(1)> | *b* [l](javascript:x)\n::error ::fake",
                     ["```\nbreak out"], "fix\r\n%0A", "javascript:alert(1)", 0.0, "n[<x>]")  # fmt: skip
    line = md(hostile.summary)
    assert "<img" not in line and "&lt;img" in line and "\\|" in line and "\\[l\\]" in line and "\n" not in line
    block = fenced("```\nbreak out")
    assert block.startswith("````text\n") and block.endswith("\n````")
    [annotation] = github_annotations([hostile])
    assert annotation.count("\n") == 0 and "%0A::error ::fake" in annotation and "%250A" in annotation


def test_junit_cases_are_named_by_check_and_target_and_warn_has_output(pytester, tmp_path):
    home, project = homes.build(tmp_path / "d", damaged=True)
    junit = pytester.path / "junit.xml"
    run_suite(pytester, home, project, f"--junitxml={junit}")
    root = ET.parse(junit).getroot()
    [suite] = root.iter("testsuite")
    assert suite.get("name") == "claude-preflight" and root.get("name") == "claude-preflight"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    settings = cases["config.file[user-settings]"]
    assert settings.get("classname") == "claude-preflight.config" and settings.find("failure") is not None
    warn = cases["config.corrupt-backups"]
    properties = {p.get("name"): p.get("value") for p in warn.iter("property")}
    assert properties["status"] == "warn"
    assert warn.find("system-out").text.startswith("WARN config.corrupt-backups: 1 corrupted copy")
    document = json.loads((pytester.path / "reports" / "claude-preflight.json").read_text())
    assert len(cases) == len(document["checks"])
