"""The plugin end to end with pytester: statuses, exit codes, reports, containment, redaction."""

from __future__ import annotations

import importlib
import json
import os
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import homes
import jsonschema
import pytest

import claude_preflight

CHECKS = Path(__file__).resolve().parent.parent / "checks"
SCHEMA = json.loads((Path(claude_preflight.__file__).parent / "claude-preflight-1.schema.json").read_text())


def run_suite(pytester, home: Path, project: Path, *args: str, machine: bool = False):
    """Run the packaged checks over a home and project. Without `machine`, the memory family (which reads this
    machine's RAM, kernel log and processes, not the home), the network family (this machine's credentials and
    network), the MCP family (the realistic home's servers point at commands this host may not have) and the
    installation family (this host's claude, node, limits) are deselected so results do not depend on the host."""
    reports = pytester.path / "reports"
    if not machine:
        args = ("-k", "not test_memory and not test_network and not test_mcp and not test_install", *args)
    return pytester.runpytest(
        str(CHECKS),
        "-p", "claude_preflight.plugin",
        "-p", "no:cacheprovider",
        "--home", str(home),
        "--project", str(project),
        "-o", f"reports_dir={reports}",
        "-o", "disk_fail_gib=0", "-o", "disk_warn_gib=0", "-o", "disk_warn_inodes_percent=0",
        *args,
    )  # fmt: skip


@pytest.fixture
def healthy(tmp_path):
    return homes.build(tmp_path / "healthy")


@pytest.fixture
def damaged(tmp_path):
    return homes.build(tmp_path / "damaged", damaged=True)


def test_healthy_home_passes_with_exit_zero(pytester, healthy):
    result = run_suite(pytester, *healthy)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*JSON report:*", "*HTML report:*", "*claude-preflight: all clear: * ok*"])
    assert "fail" not in result.stdout.lines[-1] and "warn" not in result.stdout.lines[-1]


GC_SPY = """
import atexit, gc, json
seen = []
collect = gc.collect
def counting_collect(*args):
    seen.append(gc.get_freeze_count())
    return collect(*args)
gc.collect = counting_collect
atexit.register(lambda: open("gc.json", "w").write(json.dumps([seen, gc.get_freeze_count()])))
"""


def test_the_objects_frozen_after_collection_stay_frozen_through_the_end_of_run_collections(pytester, healthy):
    """pytest collects garbage twice at the end of a run (its unraisable-exception plugin; not in an in-process
    pytester run, hence a process here): what the run froze after collection must still be frozen then (those
    collections cost 30 ms when they traversed it), and at the interpreter's last one."""
    pytester.makepyfile(gc_spy=GC_SPY)
    home, project = healthy
    pytester.runpytest_subprocess(
        str(CHECKS), "-p", "gc_spy", "-p", "claude_preflight.plugin", "-p", "no:cacheprovider", "-k", "test_config",
        "--home", str(home), "--project", str(project), "-o", f"reports_dir={pytester.path / 'reports'}",
    )  # fmt: skip
    at_collections, at_exit = json.loads((pytester.path / "gc.json").read_text())
    assert len(at_collections) >= 2 and min(at_collections) > 0 and at_exit > 0  # the interpreter's last one too


def test_a_later_run_in_the_same_process_thaws_what_an_earlier_one_froze(pytester, healthy):
    pytester.makepyfile(
        gc_seen="import gc, pytest\nSEEN = []\n@pytest.hookimpl(trylast=True)\n"
        "def pytest_configure(config):\n    SEEN.append(gc.get_freeze_count())\n"
    )
    pytester.syspathinsert()
    import gc_seen  # noqa: F401, PLC0415 - the module the inner runs load as a plugin

    for _ in range(2):
        run_suite(pytester, *healthy, "-p", "gc_seen", "-k", "test_config")
    assert len(gc_seen.SEEN) == 2 and gc_seen.SEEN[1] == 0


def test_terminal_reads_like_a_doctor(pytester, damaged):
    home, project = damaged
    result = run_suite(pytester, home, project)
    out = result.stdout.str()
    lines = result.stdout.lines
    assert lines[1].startswith("Claude Code ") and lines[2] == f"home         {home}"
    assert lines[3] == f"project      {project}"
    assert "test session starts" not in out and "platform linux" not in out  # pytest's header: -vv only
    result.stdout.fnmatch_lines(["✗ config * fail*", "✓ permissions * ok", "*- what to fix -*", "FAIL config.file*"])
    assert "short test summary" not in out and "FAILED " not in out  # no repeated, truncated node ids
    assert out.count("claude-preflight.html") == 1  # pytest-html's own line is not repeated
    assert re.match(r"=+ claude-preflight: FAIL: \d+ fail, \d+ warn, \d+ ok", lines[-1])
    assert "site-packages" not in out


def test_verbose_shows_summaries_not_node_ids(pytester, damaged):
    result = run_suite(pytester, *damaged, "-v", "-k", "test_config")
    result.stdout.fnmatch_lines(["✗ FAIL config.file[[]user-settings[]]: user settings is not valid JSON*"])
    assert "::test_config_file" not in result.stdout.str()


def test_ascii_marks_where_the_terminal_cannot_show_others():
    from claude_preflight.terminal import marks_for

    assert marks_for("utf-8")["fail"] == "✗" and marks_for("ascii")["fail"] == "x"
    assert marks_for("cp1252")["ok"] == "+" and marks_for(None)["warn"] == "!"


def test_nothing_checked_is_not_all_clear():
    from claude_preflight.report import Record
    from claude_preflight.terminal import verdict

    skipped = Record("disk.space", "t", "disk", None, "skip", "not here", [], "", None, 0.0)
    assert verdict([skipped], strict=False)[1] == "claude-preflight: nothing was checked: 1 skip"
    assert "all clear" in verdict([skipped, Record("a", "t", "disk", None, "ok", "", [], "", None, 0)], False)[1]


def test_misspelt_threshold_on_the_pytest_route_is_a_usage_error(pytester, healthy):
    result = run_suite(pytester, *healthy, "-o", "disk_wran_gib=500")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*not a claude-preflight threshold; did you mean disk_warn_gib?*"])
    result = run_suite(pytester, *healthy, "-o", "disk_warn_gib=abc")
    assert result.ret == pytest.ExitCode.USAGE_ERROR and "INTERNALERROR" not in result.stdout.str()


def test_warn_shows_as_W_and_WARN_and_does_not_fail(pytester, healthy):
    home, project = healthy
    (project / ".claude").mkdir()
    (project / ".claude" / "settings.json").write_text('{"modle": "sonnet"}')
    result = run_suite(pytester, home, project, "-v")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["! WARN config.file?project-settings?: *", "*passed with warnings: 1 warn*"])
    result.stdout.fnmatch_lines(["*WARN config.file?project-settings?*", "*modle: not a setting*did you mean model?*"])
    quiet = run_suite(pytester, home, project)
    assert (
        "W"
        in quiet.stdout.lines[
            quiet.stdout.lines.index(next(line for line in quiet.stdout.lines if "test_config.py" in line))
        ]
    )


def test_strict_turns_a_warn_into_exit_one(pytester, healthy):
    home, project = healthy
    (home / ".claude" / "settings.json").write_text('{"modle": "sonnet"}')
    assert run_suite(pytester, home, project).ret == 0
    result = run_suite(pytester, home, project, "--strict")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*--strict: warn fails the run*"])


def test_fail_exits_one_and_lists_remediation(pytester, damaged):
    result = run_suite(pytester, *damaged)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*- what to fix -*",
            "FAIL config.file?user-settings?: user settings is not valid JSON*",
            "*Remediation:*",
            "*ignores this whole file*",
        ]
    )
    assert "= FAILURES =" not in result.stdout.str()  # the summary carries the remediation once


def test_json_report_follows_schema(pytester, damaged):
    out = pytester.path / "out.json"
    run_suite(pytester, *damaged, "--json", str(out))
    document = json.loads(out.read_text())
    jsonschema.validate(document, SCHEMA)
    assert document["schema"] == "claude-preflight/1"
    by_key = {(c["id"], c["target"]): c for c in document["checks"]}
    settings = by_key[("config.file", str(damaged[0] / ".claude" / "settings.json"))]
    assert settings["status"] == "fail" and "line 3, column 28" in "\n".join(settings["evidence"])
    assert by_key[("config.corrupt-backups", None)]["status"] == "warn"
    assert sum(document["summary"].values()) == len(document["checks"])
    assert document["summary"]["fail"] == sum(c["status"] == "fail" for c in document["checks"])
    assert document["host"]["label"] == document["host"]["hostname"]


def test_host_label_names_the_run_for_the_fleet_view(pytester, healthy):
    out = pytester.path / "out.json"
    run_suite(pytester, *healthy, "--json", str(out), "--host-label", "node:20-bookworm")
    document = json.loads(out.read_text())
    jsonschema.validate(document, SCHEMA)
    assert document["host"]["label"] == "node:20-bookworm"


def test_html_report_has_status_remediation_and_family_tiles(pytester, damaged):
    result = run_suite(pytester, *damaged)
    html = (pytester.path / "reports" / "claude-preflight.html").read_text()
    assert "<th>Summary</th>" in html and ">Status</th>" in html
    from claude_preflight.rules import settings_schema

    if getattr(settings_schema, "CLI_VERSION", None):  # the environment names the schema's Claude Code release
        assert f"<th>Settings schema</th><td>Claude Code {settings_schema.CLI_VERSION}</td>" in html
    assert 'id="preflight-summary"' in html and 'id="preflight-static"' in html
    assert 'class="preflight-tile" data-status="fail"' in html  # the config family
    static = html.split('id="preflight-static"', 1)[1].split("</section>", 1)[0]
    assert "ignores this whole file" in static  # remediation text, in the section that needs no JavaScript
    assert "<script" in html and 'href="assets' not in html  # self-contained: one file to attach
    assert result.ret == 1


def test_junit_carries_status_and_remediation(pytester, damaged):
    junit = pytester.path / "junit.xml"
    run_suite(pytester, *damaged, f"--junitxml={junit}")
    cases = ET.parse(junit).getroot().iter("testcase")
    props = {case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")} for case in cases}
    settings = props["config.file[user-settings]"]
    assert settings["status"] == "fail"
    assert "delete that comma" in settings["remediation"]
    assert props["config.corrupt-backups"]["status"] == "warn"


def test_crashing_probe_is_that_checks_internal_error_and_the_rest_runs(pytester, healthy, monkeypatch):
    from claude_preflight.probes import disk

    def boom(env, target):
        raise RuntimeError("statvfs exploded")

    monkeypatch.setattr(disk, "space", boom)
    out = pytester.path / "out.json"
    result = run_suite(pytester, *healthy, "--json", str(out))
    assert result.ret == 1
    checks = json.loads(out.read_text())["checks"]
    crashed = [c for c in checks if c["id"] == "disk.space"]
    assert crashed and all(c["status"] == "error" for c in crashed)  # a bug of ours, apart from real failures
    assert "internal error in claude-preflight: RuntimeError: statvfs exploded" in crashed[0]["summary"]
    assert "claude-preflight bug" in crashed[0]["remediation"]
    assert {c["id"] for c in checks} >= {"config.file", "permissions.path", "permissions.ownership"}
    assert (pytester.path / "reports" / "claude-preflight.html").exists()


def test_hanging_probe_times_out(pytester, healthy, monkeypatch):
    from claude_preflight.probes import permissions

    def hang(env, root, limit, keep=10):
        time.sleep(3)

    monkeypatch.setattr(permissions, "foreign_owned", hang)
    out = pytester.path / "out.json"
    run_suite(pytester, *healthy, "--json", str(out), "-o", "check_timeout_s=0.3")
    check = next(c for c in json.loads(out.read_text())["checks"] if c["id"] == "permissions.ownership")
    assert check["status"] == "error" and "timed out after 0.3 s" in check["summary"]


def test_target_discovery_error_is_contained(pytester, healthy, monkeypatch):
    from claude_preflight.probes import disk

    def broken(env, path):
        raise OSError("no mount table here")

    monkeypatch.setattr(disk, "_mount_point", broken)  # used while listing the filesystems to check
    out = pytester.path / "out.json"
    result = run_suite(pytester, *healthy, "--json", str(out))
    check = next(c for c in json.loads(out.read_text())["checks"] if c["id"] == "disk.space")
    assert check["status"] == "error" and "no mount table here" in "\n".join(check["evidence"])
    assert "disk.space[discovery-error]" in result.stdout.str()


def test_html_skip_rows_read_as_a_sentence(pytester, healthy):
    run_suite(pytester, *healthy)
    html = (pytester.path / "reports" / "claude-preflight.html").read_text()
    assert "managed (policy) settings: not present" in html
    assert not re.search(r"test_config\.py\S{0,12}, \d+, \S{0,12}Skipped", html)  # the raw tuple, however escaped


def test_memory_family_runs_against_a_prepared_sysroot(pytester, healthy, tmp_path):
    sysroot = tmp_path / "sysroot"
    (sysroot / "proc").mkdir(parents=True)
    (sysroot / "proc" / "meminfo").write_text(
        "MemTotal: 4194304 kB\nMemAvailable: 1048576 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n"
    )
    out = pytester.path / "out.json"
    run_suite(
        pytester, *healthy, "--sysroot", str(sysroot), "--json", str(out), "-k", "headroom or cgroup", machine=True
    )
    checks = {c["id"]: c for c in json.loads(out.read_text())["checks"]}
    assert (
        checks["memory.headroom"]["status"] == "fail"
        and "only 1.0 GiB available" in checks["memory.headroom"]["summary"]
    )
    assert checks["memory.cgroup"]["status"] == "skip"


def test_failure_lines_keep_their_words(pytester, healthy, monkeypatch):
    """A record is redacted once: "network.api-key: cannot reach" must not read "network.api-key: **** reach"."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-wordswordswords-K3y9")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", f"https://127.0.0.1:{closed}")
    junit = pytester.path / "junit.xml"
    result = run_suite(pytester, *healthy, "-k", "test_api_key", "-rA", "-vv", f"--junitxml={junit}", machine=True)
    result.stdout.fnmatch_lines(["FAILED *test_api_key - FAIL network.api-key: cannot reach*"])
    assert "network.api-key: cannot reach" in junit.read_text()
    assert "wordswordswords" not in result.stdout.str() + junit.read_text()


def test_fix_repairs_through_the_plugin_and_reports_the_backup(pytester, tmp_path):
    home, project = homes.build(tmp_path / "fixme", damaged=True)
    torn = sorted((home / ".claude" / "projects").rglob("*.jsonl"))[-1]
    original = torn.read_bytes()
    result = run_suite(pytester, home, project, "-k", "transcript-damage", "--fix")
    document = json.loads((pytester.path / "reports" / "claude-preflight.json").read_text())
    [torn_result] = [
        c
        for c in document["checks"]
        if c["id"] == "sessions.transcript-damage" and c["target"].startswith("torn last lines")
    ]
    assert torn_result["status"] == "ok", torn_result
    assert "repaired: dropped the torn last line (" in "\n".join(torn_result["evidence"])
    [backup] = torn.parent.glob(torn.name + ".preflight-backup-*")
    assert backup.read_bytes() == original
    result.stdout.fnmatch_lines(["*--fix: repairs*", f"sessions.transcript-damage*repaired: *backup: {backup}"])
    assert result.ret == 0


def test_control_characters_in_names_are_shown_escaped(pytester, healthy):
    """An MCP server whose name sets the window title, clears the screen and breaks the line."""
    home, project = healthy
    state = json.loads((home / ".claude.json").read_text())
    hostile = "evil\x1b]0;pwned\x07\x1b[2J\nFAIL fake\u202e"
    state["mcpServers"] = {hostile: {"type": "stdio", "command": "/nonexistent/server"}}
    (home / ".claude.json").write_text(json.dumps(state))
    out = pytester.path / "out.json"
    result = run_suite(pytester, home, project, "-k", "test_mcp", "--no-mcp-start", "--json", str(out), machine=True)
    text = result.stdout.str()
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "evil\\x1b]0;pwned\\x07\\x1b[2J\\nFAIL fake\\u202e" in text
    assert not [line for line in result.stdout.lines if line.startswith("FAIL fake")]


def test_fix_lists_each_repair_and_refusal_with_its_backup():
    from claude_preflight.report import Record
    from claude_preflight.terminal import repair_lines

    def record(check_id: str, *evidence: str) -> Record:
        return Record(check_id, "t", "sessions", None, "ok", "s", list(evidence), "", None, 0.0)

    lines = repair_lines(
        [
            record("sessions.transcript-damage", "a.jsonl - repaired: dropped the torn last line; backup: a.bak", "x"),
            record("sessions.index", "rebuilt 3 entries; backup: /p/sessions-index.json.preflight-backup-1"),
            record("sessions.transcript-damage", "b.jsonl - not repaired: a live session has it open"),
            record("disk.space", "nothing repaired here is not a repair line"),
        ]
    )
    assert lines == [
        "sessions.transcript-damage: a.jsonl - repaired: dropped the torn last line; backup: a.bak",
        "sessions.index: rebuilt 3 entries; backup: /p/sessions-index.json.preflight-backup-1",
        "sessions.transcript-damage: b.jsonl - not repaired: a live session has it open",
    ]


def test_an_internal_error_is_status_error_in_every_output_and_the_fleet_view(pytester, healthy, monkeypatch, tmp_path):
    """Issue 14: a bug in claude-preflight is not a broken machine. One check raises: `error` in the terminal, the
    HTML, the JSON (schema-valid), the JUnit and the merged fleet view; exit 1 as before, said apart from failures."""
    from claude_preflight import merge
    from claude_preflight.probes import disk

    def boom(env, target):
        raise RuntimeError("statvfs exploded")

    monkeypatch.setattr(disk, "space", boom)
    out, junit = pytester.path / "out.json", pytester.path / "junit.xml"
    result = run_suite(pytester, *healthy, "--json", str(out), f"--junitxml={junit}")
    assert result.ret == 1
    document = json.loads(out.read_text())
    jsonschema.validate(document, SCHEMA)
    assert document["summary"]["error"] >= 1 and document["summary"]["fail"] == 0
    terminal = result.stdout.str()
    assert "internal error(s): a claude-preflight bug, not your machine" in terminal.splitlines()[-1]
    html = (pytester.path / "reports" / "claude-preflight.html").read_text()
    assert "status-error" in html and "internal error(s): a claude-preflight bug" in html
    cases = [c for c in ET.parse(junit).getroot().iter("testcase") if "disk.space" in c.get("name", "")]
    assert cases and all(
        any(p.get("name") == "status" and p.get("value") == "error" for p in c.iter("property")) for c in cases
    )
    fleet_json = tmp_path / "fleet.json"
    assert merge.main([str(out), "--json", str(fleet_json), "--html", str(tmp_path / "fleet.html")]) in (0, 1)
    fleet = json.loads(fleet_json.read_text())
    assert fleet["summary"]["error"] == 1  # the one host's worst status
    column = next(c for c in fleet["checks"] if c["id"] == "disk.space")
    assert column["status"] == "error" and column["hosts"]["error"]


def test_json_host_names_the_platform_the_run_judged(pytester, healthy, tmp_path):
    """A simulated Mac reports `platform: darwin`; the machine it ran on is `system`."""
    out = pytester.path / "out.json"
    (tmp_path / "mac").mkdir()
    run_suite(pytester, *healthy, "--json", str(out), "--platform", "darwin", "--sysroot", str(tmp_path / "mac"))
    document = json.loads(out.read_text())
    jsonschema.validate(document, SCHEMA)
    assert document["host"]["platform"] == "darwin" and document["host"]["system"].startswith("Linux")


WAIT_FOR_NODE = """
import os, time
MARK, SEEN, WAIT = {mark!r}, {seen!r}, {wait!r}
def pytest_runtest_setup(item):
    if not os.path.exists(SEEN):  # the first check: has install.node's `node --version` started already?
        deadline = time.monotonic() + WAIT
        while not os.path.exists(MARK) and time.monotonic() < deadline:
            time.sleep(0.01)
        open(SEEN, "w").write(str(os.path.exists(MARK)))
"""


@pytest.mark.parametrize("selected", [True, False, "collect-only"])
def test_node_is_asked_its_version_when_the_run_starts_and_only_if_install_node_runs(
    pytester, healthy, monkeypatch, selected
):
    """install.node is an early check: its `node --version` (30-60 ms of Node start-up) runs beside the checks
    before it. A stand-in node leaves a mark; the first check of the run waits for it. Deselected with -k, or
    with --collect-only, the check starts nothing."""
    bin_dir, mark, seen = pytester.path / "bin", pytester.path / "node-ran", pytester.path / "seen"
    bin_dir.mkdir()
    (bin_dir / "node").write_text(f"#!/bin/sh\necho ran > {mark}\necho v22.1.0\n")
    (bin_dir / "node").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    if selected == "collect-only":
        result = run_suite(pytester, *healthy, "--collect-only", "-k", "install.node", machine=True)
        assert "test_node" in result.stdout.str() and not mark.exists()
        return
    pytester.makepyfile(wait_for_node=WAIT_FOR_NODE.format(mark=str(mark), seen=str(seen), wait=10 if selected else 0))
    pytester.syspathinsert()
    out = pytester.path / "out.json"
    chosen = "test_config or install.node" if selected else "test_config"
    run_suite(pytester, *healthy, "-p", "wait_for_node", "--json", str(out), "-k", chosen, machine=True)
    checks = {c["id"]: c for c in json.loads(out.read_text())["checks"]}
    assert next(iter(checks)).startswith("config.")  # a config check came first, then install.node
    if selected:
        assert seen.read_text() == "True" and checks["install.node"]["summary"].startswith("node 22.1.0")
    else:
        assert seen.read_text() == "False" and not mark.exists() and "install.node" not in checks


def _results(pytester) -> list[tuple]:
    document = json.loads((pytester.path / "reports" / "claude-preflight.json").read_text())
    return [(c["id"], c.get("target"), c["status"], c["summary"], c.get("evidence")) for c in document["checks"]]


def _live_module(name: str):
    """The module a run in this process will use: an earlier in-process run may have dropped it from sys.modules
    (pytester restores them), leaving its package's attribute pointing at a copy the next run does not use."""
    return importlib.import_module(f"claude_preflight.{name}")


def test_a_big_historys_scan_begins_while_pytest_collects(pytester, damaged, monkeypatch):
    """--all-sessions over a history big enough to share with worker processes: the workers start when the run is
    configured, before pytest has collected the checks (0.1-0.2 s of a CPU that would otherwise wait), and the
    session checks get the scan they would have made themselves."""
    plugin, transcripts = _live_module("plugin"), _live_module("probes.transcripts")
    Env = _live_module("env").Env
    monkeypatch.setattr(transcripts, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    events: list[str] = []
    share_out, keep_facts = Env.share_out, plugin.keep_facts
    monkeypatch.setattr(Env, "share_out", lambda *a, **k: events.append("workers started") or share_out(*a, **k))
    monkeypatch.setattr(plugin, "keep_facts", lambda *a: events.append("collected") or keep_facts(*a))
    run_suite(pytester, *damaged, "--all-sessions", "-k", "sessions")
    assert events == ["workers started", "collected"]
    begun_early = _results(pytester)
    monkeypatch.setattr(plugin, "begin_facts", lambda env, policy: {})  # the scan made when a check asks
    run_suite(pytester, *damaged, "--all-sessions", "-k", "sessions")
    assert events[2:] == ["collected", "workers started"]
    assert _results(pytester) == begun_early and any(r[2] != "ok" for r in begun_early)


def test_a_begun_scan_no_selected_check_wants_is_cancelled(pytester, damaged, monkeypatch):
    """`-k config --all-sessions`: the workers begun at configure end once pytest has collected the checks."""
    transcripts = _live_module("probes.transcripts")

    monkeypatch.setattr(transcripts, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    events: list[str] = []
    scanning = transcripts.Scanning
    monkeypatch.setattr(scanning, "cancel", lambda self: events.append("cancelled") or self.sharing.cancel())
    monkeypatch.setattr(scanning, "result", lambda self: events.append("result wanted"))
    result = run_suite(pytester, *damaged, "--all-sessions", "-k", "test_config")
    assert result.ret in (0, 1) and events == ["cancelled"]


@pytest.mark.parametrize("option", ["--help", "--collect-only"])
def test_a_run_that_checks_nothing_begins_no_scan(pytester, damaged, monkeypatch, option):
    """`--help` configures the run too: it walked the history and started a scan worker it never used."""
    transcripts = _live_module("probes.transcripts")
    monkeypatch.setattr(transcripts, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    begun: list[object] = []
    monkeypatch.setattr(transcripts, "start_recent_scans", lambda *a: begun.append(a))
    result = run_suite(pytester, *damaged, "--all-sessions", option)
    assert result.ret == 0 and begun == []
