"""`claude-preflight merge`: real reports of real runs in one fleet view; bad files named and skipped."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import homes
import jsonschema
import pytest

import claude_preflight
from claude_preflight import merge

PACKAGE = Path(claude_preflight.__file__).parent
FLEET_SCHEMA = json.loads((PACKAGE / "claude-preflight-fleet-1.schema.json").read_text())
REPORT_SCHEMA = json.loads((PACKAGE / "claude-preflight-1.schema.json").read_text())
KEY = "sk-ant-api03-" + "Q" * 40 + "-merge0TAIL"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "claude_preflight.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """Three real runs of the suite (config, permissions and sessions families): a healthy home and two damaged
    ones, as three CI images would make them."""
    root = tmp_path_factory.mktemp("fleet")
    reports = root / "reports"
    for label, damaged in (("python:3.11-slim", False), ("node:20-bookworm", True), ("dev-box-7", True)):
        home, project = homes.build(root / label.replace(":", "_"), damaged=damaged)
        done = cli("--home", str(home), "--project", str(project), "--offline", "-q", "-k",
                   "config or permissions or sessions", "--host-label", label,
                   "--json", str(reports / f"{label.replace(':', '_')}.json"), cwd=root)  # fmt: skip
        assert done.returncode in (0, 1), done.stdout + done.stderr
    return reports


def report(label: str, checks: list[dict], created: str = "2026-11-23T06:00:00+00:00") -> dict:
    return {
        "schema": "claude-preflight/1",
        "created": created,
        "host": {"hostname": "h-" + label, "label": label, "platform": "Linux", "python": "3.11.7",
                 "claude_version": None},
        "summary": {s: sum(c["status"] == s for c in checks) for s in ("ok", "warn", "fail", "skip")},
        "checks": checks,
    }  # fmt: skip


def result(check_id: str, status: str, summary: str = "", target: str | None = None, remediation: str = "") -> dict:
    return {"id": check_id, "title": f"title of {check_id}", "family": check_id.split(".")[0], "target": target,
            "status": status, "summary": summary or f"{check_id} {status}", "evidence": [],
            "remediation": remediation or (f"fix {check_id}" if status in ("warn", "fail") else ""),
            "docs": None, "duration_s": 0.01}  # fmt: skip


def write_raw(path: Path, document: dict) -> Path:
    path.write_text(json.dumps(document))
    return path


def write(path: Path, document: dict) -> Path:
    jsonschema.validate(document, REPORT_SCHEMA)  # the hand-made reports are real claude-preflight/1 documents
    return write_raw(path, document)


class FleetTable(HTMLParser):
    """The fleet table as a browser reads it: check ids from the header, then per row the host and each cell."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.rows: list[tuple[str, list[tuple[str, str, str | None]]]] = []  # (label, [(text, tooltip, status)])
        self._where: str | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        if tag == "tr":
            self.rows.append(("", []))
        classes = (attrs.get("class") or "").split()
        if tag == "th" and "check" in classes:
            self._where = "check"
            self.ids.append("")
        elif tag == "th" and "host" in classes and self.ids:
            self._where = "host"
        elif tag == "td" and "cell" in classes:
            self._where = "cell"
            self.rows[-1][1].append(("", attrs.get("title") or "", attrs.get("data-status")))
        elif tag in ("br", "small"):
            self._where = None

    def handle_data(self, data: str) -> None:
        if self._where == "check":
            self.ids[-1] += data
        elif self._where == "host":
            self.rows[-1] = (self.rows[-1][0] + data, self.rows[-1][1])
        elif self._where == "cell":
            text, tip, status = self.rows[-1][1][-1]
            self.rows[-1][1][-1] = (text + data, tip, status)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td"):
            self._where = None

    def cells(self) -> dict[tuple[str, str], tuple[str, str, str | None]]:
        """(host label, check id) -> (cell text, tooltip, data-status)."""
        out = {}
        for label, cells in self.rows:
            if label:
                out |= {(label, check_id): cell for check_id, cell in zip(self.ids, cells, strict=True)}
        return out


def test_real_runs_merge_into_one_table_worst_first(runs, tmp_path):
    done = cli("merge", *sorted(str(p) for p in runs.glob("*.json")), "--html", "fleet.html", "--json", "fleet.json",
               cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "3 hosts: 2 with a failing check, 0 files skipped" in done.stdout
    fleet = json.loads((tmp_path / "fleet.json").read_text())
    jsonschema.validate(fleet, FLEET_SCHEMA)
    assert [h["label"] for h in fleet["hosts"]][-1] == "python:3.11-slim"  # the healthy one last
    assert fleet["summary"]["hosts"] == 3 and fleet["summary"]["fail"] == 2
    assert fleet["checks"][0]["status"] == "fail"
    config = next(c for c in fleet["checks"] if c["id"] == "config.file")
    assert sorted(config["hosts"]["fail"]) == ["dev-box-7", "node:20-bookworm"]
    assert config["hosts"]["ok"] == ["python:3.11-slim"]

    page = (tmp_path / "fleet.html").read_text()
    table = FleetTable(page)
    cells = table.cells()
    text, tip, _ = cells[("node:20-bookworm", "config.file")]
    assert text == "FAIL" and "not valid JSON" in tip and "line 3, column 28" in tip
    assert cells[("python:3.11-slim", "config.file")][0] == "OK"
    rows = [[status for _, _, status in row] for label, row in table.rows if label]
    assert "fail" in rows[0] and "fail" not in rows[-1]
    first, last = table.ids[0], table.ids[-1]  # columns worst first too
    assert any(cells[(label, first)][2] == "fail" for label, _ in table.rows if label)
    assert all(cells[(label, last)][2] in ("ok", "skip", None) for label, _ in table.rows if label)
    # The remediation of a check shows once, however many hosts it failed on.
    remediation = html.escape(config["remediation"].splitlines()[0])
    assert page.count(remediation) == 1
    assert 'id="check-config.file"' in page and "fail on 2: " in page


def test_a_cell_lists_every_non_ok_result_and_counts_the_rest(tmp_path):
    checks = [result("mcp.server", "fail", f"server {n} did not start", target=f"user:s{n}") for n in range(15)]
    checks += [result("mcp.server", "ok", target="user:fine"), result("config.file", "ok")]
    write(tmp_path / "a.json", report("a", checks))
    write(tmp_path / "b.json", report("b", [result("config.file", "warn")]))
    runs, skipped = merge.collect(merge.Env(home=tmp_path, project=tmp_path), [tmp_path], merge.Redactor())
    assert not skipped
    cells = FleetTable(merge.as_html(merge.Fleet.of(runs, skipped))).cells()
    tip = cells[("a", "mcp.server")][1].splitlines()
    assert tip[0] == "FAIL user:s0: server 0 did not start"
    assert tip[-2:] == ["+3 more", "1 ok"] and len(tip) == merge.HOVER_LINES + 2
    assert cells[("b", "mcp.server")] == ("–", "not run on this host", None)
    all_ok = merge.HostRun("c", "c.json", {}, "", [merge.Record(
        "mcp.server", "t", "mcp", f"user:s{n}", "ok", f"s{n} answered", [], "", None, 0.0) for n in range(3)])  # fmt: skip
    assert merge.cell_text(all_ok, "mcp.server") == "OK user:s0: s0 answered"  # no "3 ok" repeating it
    # Columns worst first: mcp.server fails somewhere, config.file only warns.
    assert [c.id for c in merge.columns(merge.order_hosts(runs))] == ["mcp.server", "config.file"]


def test_bad_and_foreign_files_are_named_and_skipped(tmp_path):
    good = write(tmp_path / "good.json", report("good", [result("disk.space", "ok")]))
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema": "claude-preflight/1",\n  "checks": [1,]\n}')
    foreign = tmp_path / "package.json"
    foreign.write_text('{"name": "x"}')
    other = tmp_path / "other.json"
    other.write_text('{"schema": "claude-preflight-diagnose/1", "causes": []}')
    bad_status = write_raw(tmp_path / "status.json", report("s", [result("disk.space", "ok") | {"status": "great"}]))
    array = tmp_path / "array.json"
    array.write_text("[]")
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes(b'{"schema": "caf\xe9"}')
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as out:
        out.truncate(merge.MAX_REPORT_BYTES + 1)  # sparse: no real 64 MB written
    empty_dir = tmp_path / "nothing"
    empty_dir.mkdir()
    missing = tmp_path / "missing.json"
    names = [good, broken, foreign, other, bad_status, array, latin1, fifo, huge, empty_dir, missing]
    done = cli("merge", *map(str, names), "--json", "fleet.json", "--html", "fleet.html", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    reasons = dict(re.findall(r"^skipped (\S+): (.*)$", done.stderr, re.M))
    assert reasons[str(broken)] == "invalid JSON at line 2, column 15: Illegal trailing comma before end of array"
    assert reasons[str(foreign)] == 'not a claude-preflight report (no "schema" key)'
    assert "schema 'claude-preflight-diagnose/1'" in reasons[str(other)]
    assert "checks[0] has status 'great'" in reasons[str(bad_status)]
    assert "a JSON list, not an object" in reasons[str(array)]
    assert "schema 'caf\ufffd'" in reasons[str(latin1)]
    assert reasons[str(fifo)] == "a FIFO (named pipe), not a file"
    assert "too large" in reasons[str(huge)]
    assert reasons[str(empty_dir)] == "a directory with no *.json file"
    assert reasons[str(missing)] == "does not exist"
    fleet = json.loads((tmp_path / "fleet.json").read_text())
    jsonschema.validate(fleet, FLEET_SCHEMA)
    assert {s["path"] for s in fleet["skipped"]} == set(reasons) and len(fleet["hosts"]) == 1
    page = (tmp_path / "fleet.html").read_text()
    assert f"Skipped files ({len(reasons)})" in page and html.escape(str(fifo)) in page


def test_nothing_usable_or_nothing_to_write_is_a_usage_error(tmp_path):
    foreign = tmp_path / "x.json"
    foreign.write_text("{}")
    done = cli("merge", str(foreign), "--html", "fleet.html", cwd=tmp_path)
    assert done.returncode == 2 and "no claude-preflight report among the files given" in done.stderr
    assert not (tmp_path / "fleet.html").exists()
    good = write(tmp_path / "good.json", report("good", [result("disk.space", "ok")]))
    done = cli("merge", str(good), cwd=tmp_path)
    assert done.returncode == 2 and "give --html PATH and/or --json PATH" in done.stderr
    assert cli("merge", cwd=tmp_path).returncode == 2


def test_newest_report_per_host_label_wins(tmp_path):
    write(tmp_path / "monday.json", report("ci-image", [result("disk.space", "fail")], "2026-11-16T06:00:00+00:00"))
    write(tmp_path / "today.json", report("ci-image", [result("disk.space", "ok")], "2026-11-23T06:00:00+00:00"))
    write(tmp_path / "older.json", report("ci-image", [result("disk.space", "warn")], "2026-11-20T06:00:00+00:00"))
    runs, skipped = merge.collect(merge.Env(home=tmp_path, project=tmp_path), [tmp_path], merge.Redactor())
    assert [(r.label, r.source) for r in runs] == [("ci-image", str(tmp_path / "today.json"))]
    assert sorted(Path(s.path).name for s in skipped) == ["monday.json", "older.json"]
    assert all("older report of 'ci-image'" in s.reason for s in skipped)


def test_a_file_named_twice_counts_once(tmp_path, monkeypatch):
    write(tmp_path / "a.json", report("a", [result("disk.space", "ok")]))
    monkeypatch.chdir(tmp_path)
    env = merge.Env(home=tmp_path, project=tmp_path)
    runs, skipped = merge.collect(env, [Path("a.json"), tmp_path / "a.json", tmp_path], merge.Redactor())
    assert [r.source for r in runs] == ["a.json"] and skipped == []


def test_a_report_without_label_goes_by_its_hostname(tmp_path):
    document = report("x", [result("disk.space", "ok")])
    del document["host"]["label"]  # reports written before --host-label existed
    write(tmp_path / "old.json", document)
    runs, _ = merge.collect(merge.Env(home=tmp_path, project=tmp_path), [tmp_path / "old.json"], merge.Redactor())
    assert runs[0].label == "h-x"


def test_secrets_and_markup_in_a_report_do_not_reach_the_fleet_view(tmp_path):
    """A hand-made or old report may carry a key; the fleet view redacts again and escapes everything."""
    checks = [result("network.api-key", "fail", f"key {KEY} rejected <script>alert(1)</script>",
                     remediation=f"export ANTHROPIC_API_KEY={KEY}")]  # fmt: skip
    write(tmp_path / "leaky.json", report('"><img src=x>', checks))
    done = cli("merge", str(tmp_path / "leaky.json"), "--html", "f.html", "--json", "f.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for name in ("f.html", "f.json"):
        text = (tmp_path / name).read_text()
        assert KEY not in text and KEY[:-4] not in text and "TAIL" in text
    page = (tmp_path / "f.html").read_text()
    assert "<script>" not in page and "<img" not in page and "&lt;script&gt;" in page


def test_a_directory_is_read_whole_and_an_earlier_fleet_file_in_it_is_skipped(runs, tmp_path):
    out = runs / "fleet.json"
    try:
        assert cli("merge", str(runs), "--json", str(out), cwd=tmp_path).returncode == 0
        done = cli("merge", str(runs), "--json", str(tmp_path / "again.json"), cwd=tmp_path)
    finally:
        out.unlink(missing_ok=True)
    assert done.returncode == 0
    assert f"skipped {out}: not a claude-preflight report (schema 'claude-preflight-fleet/1'" in done.stderr
    assert len(json.loads((tmp_path / "again.json").read_text())["hosts"]) == 3


def test_a_file_name_that_is_not_utf8_is_named_and_the_merge_goes_on(tmp_path):
    good = report("box", [result("disk.space", "ok")])
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.json").write_text(json.dumps(good))
    odd = os.fsdecode(b"odd-\xff\x1b[2J.json")
    (folder / odd).write_text("not json")
    done = subprocess.run(
        [sys.executable, "-m", "claude_preflight", "merge", str(folder), "--html", "f.html", "--json", "f.json"],
        cwd=tmp_path, capture_output=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert b"odd-\\xff\\x1b[2J.json" in done.stderr and b"\x1b" not in done.stderr + done.stdout
    document = json.loads((tmp_path / "f.json").read_text())
    assert [s["path"].rsplit("/", 1)[-1] for s in document["skipped"]] == ["odd-\\xff\\x1b[2J.json"]
    assert "odd-\\xff\\x1b[2J.json" in (tmp_path / "f.html").read_text()


def test_only_http_links_reach_the_fleet_view(tmp_path):
    bad = result("disk.space", "fail", "full", remediation="free space")
    bad["docs"] = "javascript:alert(document.domain)"
    (tmp_path / "a.json").write_text(json.dumps(report("box", [bad])))
    runs, _ = merge.collect(merge.Env(home=tmp_path, project=tmp_path), [tmp_path / "a.json"], merge.Redactor())
    page = merge.as_html(merge.Fleet.of(runs, []))
    assert "javascript:" not in page and "free space" in page


def test_each_distinct_failing_remediation_of_a_check_is_shown(tmp_path):
    """A settings wrong-type failure on one host must not hide behind a .claude.json one on another; the same fix
    on two hosts (differing only in paths) shows once."""
    state = result("config.file", "fail", "user state is not valid JSON", target="/home/a/.claude.json",
                   remediation="Delete the comma at line 3 of '/home/a/.claude.json'.")  # fmt: skip
    state_b = result("config.file", "fail", "user state is not valid JSON", target="/home/b/.claude.json",
                     remediation="Delete the comma at line 9 of '/home/b/.claude.json'.")  # fmt: skip
    typed = result("config.file", "fail", "permissions.allow must be a list", target="/home/c/.claude/settings.json",
                   remediation="Make permissions.allow a list of strings.")  # fmt: skip
    for label, check in (("a", state), ("b", state_b), ("c", typed)):
        write(tmp_path / f"{label}.json", report(label, [check]))
    runs, _ = merge.collect(merge.Env(home=tmp_path, project=tmp_path), [tmp_path], merge.Redactor())
    fleet = merge.Fleet.of(runs, [])
    document = merge.as_json(fleet)
    jsonschema.validate(document, FLEET_SCHEMA)
    [config] = document["checks"]
    assert [(r["summary"], sorted(r["hosts"])) for r in config["remediations"]] == [
        ("user state is not valid JSON", ["a", "b"]),
        ("permissions.allow must be a list", ["c"]),
    ]
    page = merge.as_html(fleet)
    assert "Make permissions.allow a list of strings." in page and page.count("Delete the comma at line") == 1


def test_the_outputs_are_streamed_as_the_documents_they_were_and_hosts_share_equal_results(tmp_path):
    """10,000 hosts: the outputs are written a host at a time, and a result reported alike by many hosts is one
    object. The streamed JSON is json.dumps(as_json(...)) exactly; cells of hosts with the same results match."""
    same = result("mcp.server", "fail", "s0 did not answer", target="user:s0", remediation="Fix s0.")
    other = result("config.file", "warn", "unknown key", target="/h/.claude.json", remediation="Remove it.")
    for label, checks in (("a", [same, other]), ("b", [same]), ("c", [same, {**other, "status": "ok"}])):
        write(tmp_path / f"{label}.json", report(label, checks))
    runs, _ = merge.collect(merge.Env(home=tmp_path, project=tmp_path), [tmp_path], merge.Redactor())
    fleet = merge.Fleet.of(runs, [])
    shared = {id(run.by_check["mcp.server"][0]) for run in runs}
    assert len(shared) == 1  # one Record for the three hosts' equal result
    whole, streamed = merge.as_json(fleet), "".join(merge.json_chunks(fleet))
    assert streamed == json.dumps({**whole, "created": json.loads(streamed)["created"]}) + "\n"
    cells = FleetTable("".join(merge.html_chunks(fleet))).cells()
    assert cells[("a", "mcp.server")] == cells[("b", "mcp.server")] == cells[("c", "mcp.server")]
    assert cells[("a", "config.file")][0] != cells[("c", "config.file")][0]
