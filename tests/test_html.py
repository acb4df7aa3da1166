"""The HTML report as a browser shows it: headless Chromium renders real reports of real runs.

The static section must carry every fail and warn without JavaScript, the page must read at 800 px and print
without clipping, and nothing from a user's files (server names, folder names) may run as script.
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import browser
import homes
import pypdf
import pytest
from test_plugin import run_suite


@pytest.fixture
def damaged_report(pytester, tmp_path) -> tuple[Path, dict]:
    home, project = homes.build(tmp_path / "damaged", damaged=True)
    out = pytester.path / "out.json"
    run_suite(pytester, home, project, "--json", str(out))
    return pytester.path / "reports" / "claude-preflight.html", json.loads(out.read_text())


def pdf_text(path: Path) -> str:
    reader = pypdf.PdfReader(path)
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def problems(document: dict) -> list[dict]:
    return [c for c in document["checks"] if c["status"] in ("fail", "warn")]


def test_screenshots_at_1400_and_800_px_and_no_sideways_scroll_at_800(damaged_report, tmp_path):
    page, _ = damaged_report
    for width in (1400, 800):
        png = browser.screenshot(page, tmp_path / f"report-{width}.png", width)
        assert png.stat().st_size > 20_000  # a rendered page, not a blank one
    # Measure the layout at 800 px in a copy with a probe script: the page must not be wider than the window.
    probe = tmp_path / "probe.html"
    probe.write_text(
        page.read_text().replace(
            "</body>",
            "<script>window.addEventListener('load', () => setTimeout(() => document.body.setAttribute("
            "'data-overflow', document.documentElement.scrollWidth - window.innerWidth), 500))</script></body>",
        )
    )
    overflow = re.search(r'data-overflow="(-?\d+)"', browser.dom(probe, width=800))
    assert overflow and int(overflow.group(1)) <= 0, overflow


def test_every_fail_and_warn_shows_with_scripts_blocked(damaged_report, tmp_path):
    page, document = damaged_report
    blocked = browser.without_scripts(page, tmp_path / "no-scripts.html")
    browser.screenshot(blocked, tmp_path / "no-scripts.png", 800)
    text = pdf_text(browser.pdf(blocked, tmp_path / "no-scripts.pdf"))
    assert problems(document)
    for check in problems(document):
        summary = " ".join(check["summary"].split())
        first_remedy = " ".join(check["remediation"].splitlines()[0].split())
        assert summary[:60] in text and first_remedy[:60] in text, check["id"]
    assert "ok or warn" not in text  # the scripted table really did not render: this is the no-JS view


def test_print_keeps_every_row_and_the_counts_agree(damaged_report, tmp_path):
    page, document = damaged_report
    out = browser.pdf(page, tmp_path / "report.pdf")
    reader = pypdf.PdfReader(out)
    assert {round(float(p.mediabox.width)) for p in reader.pages} <= {595, 612}  # A4 or Letter
    text = pdf_text(out)
    for check in document["checks"]:  # each row's summary, in the printed table or the section above
        assert " ".join(check["summary"].split())[:40] in text, check
    total = document["summary"]
    assert (
        f"{len(document['checks'])} results: {total['fail']} fail, {total['warn']} warn, {total['ok']} ok, "
        f"{total['skip']} skip" in text
    )
    # pytest-html's filter counts (on screen, not in print), named so they agree with ours
    rendered = browser.dom(page)
    assert f"{total['fail']} fail," in rendered and f"{total['ok'] + total['warn']} ok or warn," in rendered
    assert f"{total['skip']} skip," in rendered


class Texts(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.feed(page)

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


def test_each_text_once_in_the_static_section(damaged_report):
    page, document = damaged_report
    static = page.read_text().split('id="preflight-static"', 1)[1].split("</section>", 1)[0]
    text = "".join(Texts(static).texts)
    for check in problems(document):
        assert text.count(check["remediation"].splitlines()[0]) >= 1
    assert text.count("Remediation") == len(problems(document))


XSS_SERVER = "<img src=x onerror=\"document.body.setAttribute('data-pwned','server')\">"
PWNED = re.compile(r"<body[^>]*\bdata-pwned=")  # set on <body> only when an injected handler ran
XSS_FOLDER = "<svg onload=\"document.body.setAttribute('data-pwned','folder')\">"


def test_no_script_from_a_name_runs_when_the_report_is_opened(pytester, tmp_path):
    """An MCP server named with markup and a projects/ folder with markup in its name: opened in Chromium with
    scripts on, the report runs nothing of theirs. The same payload placed raw in a page does run (the control),
    so the detector itself works."""
    home, project = homes.build(tmp_path / "xss", damaged=True)
    state = json.loads((home / ".claude.json").read_text())
    state["mcpServers"] = {XSS_SERVER: {"type": "stdio", "command": "/nonexistent/" + XSS_SERVER}}
    (home / ".claude.json").write_text(json.dumps(state))
    projects = home / ".claude" / "projects"
    some = next(projects.iterdir())
    shutil.copytree(some, projects / XSS_FOLDER.replace("/", "_"))
    out = pytester.path / "out.json"
    run_suite(pytester, home, project, "--no-mcp-start", "--offline", "--json", str(out), machine=True)
    page = pytester.path / "reports" / "claude-preflight.html"
    raw = page.read_text()
    assert "&lt;img src=x onerror" in raw and "&lt;svg onload" in raw  # both names reached the report, escaped
    assert "<img src=x" not in raw and "<svg onload" not in raw
    rendered = browser.dom(page)
    assert "preflight-static" in rendered and 'class="col-testId"' in rendered  # the scripted table was drawn
    assert not PWNED.search(rendered)

    control = tmp_path / "control.html"
    control.write_text(f"<!DOCTYPE html><html><body>{XSS_SERVER}{XSS_FOLDER}</body></html>")
    assert PWNED.search(browser.dom(control))
