"""Report records and their renderings: terminal text, JSON (claude-preflight/1), HTML fragments."""

from __future__ import annotations

import datetime
import hashlib
import html
import os
import platform
import re
import socket
from dataclasses import asdict, dataclass

from claude_preflight import catalogue
from claude_preflight.outcome import Status, worst
from claude_preflight.rules import settings_schema

SCHEMA = "claude-preflight/1"
# C0 and C1 controls, DEL, line and paragraph separators, and the bidirectional overrides that reorder what is shown.
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\x1b"}


def visible(text: str) -> str:
    """Control characters shown as escapes (\\n, \\x1b, \\u202e): a server or folder name cannot set the window
    title, clear the screen or break a line in any text output."""
    return _INVISIBLE.sub(
        lambda m: _NAMED.get(
            m.group(), f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}"
        ),
        text,
    )


def safe_id(text: str) -> str:
    """A parametrize id that is safe anywhere pytest puts it: control characters escaped, markup characters and
    whitespace replaced."""
    return re.sub(r"[<>&\"'`\s]", "_", visible(text)) or "_"


def safe_link(url: str | None) -> str | None:
    """Only http(s) links go into a report: a javascript: or data: URL from a file is dropped."""
    if url and re.match(r"https?://[^\s<>\"']+$", url, re.IGNORECASE):
        return url
    return None


def visible_lines(text: str) -> str:
    """A multi-line text with each line made visible (its line breaks kept)."""
    return "\n".join(visible(line) for line in text.split("\n"))


COLOURS = {"ok": "#2e7d32", "warn": "#b26a00", "fail": "#c62828", "skip": "#616161", "error": "#6a1b9a"}
# What a person must look at, most urgent first: a bug of ours, a failure, a warning.
PROBLEMS = ("error", "fail", "warn")


def problems(records: list[Record]) -> list[Record]:
    """Every error, fail and warn, in that order."""
    return [r for status in PROBLEMS for r in records if r.status == status]


@dataclass
class Record:
    """One check result as it goes into every report (already redacted)."""

    id: str
    title: str
    family: str
    target: str | None
    status: str
    summary: str
    evidence: list[str]
    remediation: str
    docs: str | None
    duration_s: float
    nodeid: str = ""
    target_id: str = ""  # the target's stable id (its test id), "" for a check without targets

    @property
    def name(self) -> str:
        return f"{self.id}[{self.target_id}]" if self.target_id else self.id


def as_text(record: Record) -> str:
    """The text a person reads for one non-ok result (terminal, JUnit, HTML log)."""
    lines = [f"{record.status.upper()} {record.name}: {record.summary}"]
    if record.evidence:
        lines += ["Evidence:", *(f"  {line}" for line in record.evidence)]
    if record.remediation:
        lines += ["Remediation:", *(f"  {line}" for line in record.remediation.splitlines())]
    if record.docs:
        lines.append(f"Docs: {record.docs}")
    return "\n".join(lines)


def counts(records: list[Record]) -> dict[str, int]:
    summary = {status.value: 0 for status in Status}
    for record in records:
        summary[record.status] += 1
    return summary


def json_document(
    records: list[Record], claude_version: str | None, label: str | None = None, judged_as: str | None = None
) -> dict:
    """`judged_as`: the platform the run judged (Env.platform: linux, darwin, win32; a simulation's --platform)."""
    hostname = socket.gethostname()
    return {
        "schema": SCHEMA,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": {
            "hostname": hostname,
            "label": label or hostname,
            "platform": judged_as or platform.platform(),
            "system": platform.platform(),
            "python": platform.python_version(),
            "claude_version": claude_version,
            "settings_schema_version": settings_schema.CLI_VERSION,
        },
        "summary": counts(records),
        "checks": [
            {k: v for k, v in asdict(r).items() if k not in ("nodeid", "target_id")}
            | {"duration_s": round(r.duration_s, 4)}
            for r in records
        ],
    }


def family_status(records: list[Record]) -> dict[str, str]:
    """Worst status per family, in catalogue order (families with no result are left out)."""
    out = {}
    for family in catalogue.families():
        statuses = [Status(r.status) for r in records if r.family == family]
        if statuses:
            out[family] = worst(statuses).value
    return out


STATIC_CSS = """
#environment-header, #environment, .run-count, p.filter { display: none; }  /* our static section replaces them */
#preflight-static { max-width: 72em; font-size: 14px; line-height: 1.4; color: #222; }
#preflight-static pre { color: #222; }
#preflight-static h2.verdict { margin: 0.2em 0; }
#preflight-static .env { border-collapse: collapse; margin: 0.5em 0 1em; }
#preflight-static .env th { text-align: left; padding: 2px 12px 2px 0; vertical-align: top; white-space: nowrap; }
#preflight-static .env td { padding: 2px 0; overflow-wrap: anywhere; }
#preflight-static .tiles { display: flex; flex-wrap: wrap; gap: 6px; margin: 0.5em 0 1em; }
.preflight-tile { padding: 6px 12px; border-radius: 6px; color: #fff; min-width: 8em; }
.preflight-tile small { display: block; }
.preflight-finding { border-left: 6px solid; padding: 4px 12px; margin: 0 0 12px; background: #fafafa;
  break-inside: avoid; overflow-wrap: anywhere; }
.preflight-finding h4 { margin: 4px 0; }
.preflight-finding pre, .col-summary pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 2px 0 6px;
  font-size: 12px; }
.preflight-finding .label { font-weight: bold; margin: 4px 0 0; }
.status-fail { color: #c62828; } .status-warn { color: #b26a00; } .status-ok { color: #2e7d32; }
.status-skip { color: #616161; }
#results-table { table-layout: auto; }
#results-table td { overflow-wrap: anywhere; }
td.col-result.preflight-warn { font-size: 0; }
td.col-result.preflight-warn::after { content: "Warn"; font-size: 12px; color: #b26a00; }
@media (max-width: 900px) { body { min-width: 0; } #results-table .col-duration, #results-table .col-links,
  #results-table-head th:nth-last-child(-n+2) { display: none; } }
@media print {
  body { min-width: 0; margin: 0; }
  .controls, .summary__reload, .filters, .collapse { display: none !important; }
  .preflight-tile, .preflight-finding { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  #results-table { width: 100%; font-size: 11px; }
  #results-table .col-duration, #results-table .col-links, #results-table-head th:nth-last-child(-n+2) {
    display: none; }
  a[href^="http"]::after { content: ""; }
}
"""


def _findings_html(records: list[Record]) -> str:
    return "".join(_finding(record) for record in problems(records))


def finding_anchor(record: Record) -> str:
    """A stable id for a finding (the table rows are made during the run, before every record is known)."""
    return "preflight-" + hashlib.sha1(record.nodeid.encode("utf-8", "replace")).hexdigest()[:12]


def _finding(record: Record) -> str:
    e = html.escape
    body = [f'<h4><span class="status-{record.status}">{record.status.upper()}</span> {e(record.name)}</h4>',
            f"<div>{e(record.summary)}</div>"]  # fmt: skip
    if record.evidence:
        body.append('<p class="label">Evidence</p><pre>' + e("\n".join(record.evidence)) + "</pre>")
    if record.remediation:
        body.append(f'<p class="label">Remediation</p><pre>{e(record.remediation)}</pre>')
    link = safe_link(record.docs)
    if link:
        body.append(f'<p>Docs: <a href="{e(link)}">{e(link)}</a></p>')
    return (
        f'<div class="preflight-finding" id="{finding_anchor(record)}" data-status="{record.status}" '
        f'style="border-color:{COLOURS[record.status]}">{"".join(body)}</div>'
    )


def _tiles(records: list[Record]) -> str:
    tiles = []
    for family, status in family_status(records).items():
        members = [r for r in records if r.family == family]
        detail = ", ".join(f"{n} {s}" for s, n in counts(members).items() if n)
        tiles.append(
            f'<div class="preflight-tile" data-status="{status}" style="background:{COLOURS[status]}">'
            f"<b>{html.escape(family)}</b> {status.upper()}<small>{html.escape(detail)}</small></div>"
        )
    return f'<div class="tiles">{"".join(tiles)}</div>'


def count_line(records: list[Record]) -> str:
    total = counts(records)
    order = ("fail", "warn", "ok", "skip")
    line = f"{len(records)} results: " + ", ".join(f"{total[s]} {s}" for s in order)
    return line + (f", {total['error']} internal error(s): a claude-preflight bug" if total["error"] else "")


def html_summary(records: list[Record], environment: dict[str, str] | None = None) -> str:
    """The static section at the top of the HTML report, rendered without JavaScript (mail and ticket previews block
    scripts): verdict and counts, the environment, one tile per family, then every fail and warn with its evidence
    and remediation."""
    verdict = worst(Status(r.status) for r in records).value if records else "skip"
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in (environment or {}).items()
    )
    listed = problems(records)
    heading = f"<h3>What to fix ({len(listed)})</h3>" if listed else "<h3>Nothing to fix</h3>"
    return (
        f"<style>{STATIC_CSS}</style>"
        '<section id="preflight-static"><div id="preflight-summary">'
        f'<h2 class="verdict status-{verdict}">claude-preflight: {verdict.upper()}</h2>'
        f'<p class="counts">{html.escape(count_line(records))}</p>'
        f'<table class="env">{rows}</table>{_tiles(records)}</div>'
        f"{heading}{_findings_html(records)}"
        "<h3>Every result</h3><p>The table below (it needs JavaScript) lists every result, ok and skip included.</p>"
        "</section>"
    )


def html_summary_cell(record: Record | None, anchor: str | None) -> str:
    """The table's Summary cell: the summary once; a fail or warn links to its evidence and remediation above."""
    if record is None:
        return "<td></td>"
    link = f' <a href="#{anchor}">evidence and remediation</a>' if anchor else ""
    return f'<td class="col-summary">{html.escape(record.summary)}{link}</td>'


def html_status(record: Record | None) -> str:
    """Sortable worst first: a hidden rank before the word (pytest-html sorts a column by its cell's HTML)."""
    if record is None:
        return "<td></td>"
    rank = {"error": 0, "fail": 1, "warn": 2, "ok": 3, "skip": 4}[record.status]
    return (
        f'<td class="col-status status-{record.status}" style="font-weight:bold">'
        f'<span hidden="">{rank}</span>{record.status.upper()}</td>'
    )


# -- Markdown (GitHub step summary, --markdown) and GitHub annotations ------------------------------------------
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")  # with <, > and & as entities: no emphasis, link, table cell or tag
MARKS = {"ok": "✓", "warn": "!", "fail": "✗", "skip": "-", "error": "?"}


def md(text: str) -> str:
    """Text for a Markdown line: HTML entities and Markdown punctuation escaped (GitHub renders HTML in Markdown)."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(visible(text), quote=False))


def fenced(text: str) -> str:
    """A code block whose fence no backtick run inside can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def markdown_report(records: list[Record], environment: dict[str, str] | None = None) -> str:
    verdict = worst(Status(r.status) for r in records).value if records else "skip"
    lines = [f"## claude-preflight: {verdict.upper()}", "", md(count_line(records)), ""]
    if environment:
        lines += ["| | |", "|---|---|", *(f"| {md(k)} | {md(v)} |" for k, v in environment.items()), ""]
    lines += ["| | family | results |", "|---|---|---|"]
    for family, status in family_status(records).items():
        members = [r for r in records if r.family == family]
        lines.append(
            f"| {MARKS[status]} | {md(family)} | {md(', '.join(f'{n} {s}' for s, n in counts(members).items() if n))} |"
        )
    listed = problems(records)
    if listed:
        lines += ["", "### What to fix"]
    for record in listed:
        lines += ["", f"#### {MARKS[record.status]} {record.status.upper()} {md(record.name)}", "", md(record.summary)]
        if record.evidence:
            lines += ["", "**Evidence**", "", fenced("\n".join(record.evidence))]
        if record.remediation:
            lines += ["", "**Remediation**", "", fenced(record.remediation)]
        link = safe_link(record.docs)
        if link:
            lines += ["", f"Docs: <{link}>"]
    return "\n".join(lines) + "\n"


_LOCATION = re.compile(r"^(?P<file>(?:/|~/)[^:\n]+): line (?P<line>\d+), column (?P<col>\d+)")


def _annotation_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _annotation_property(text: str) -> str:
    return _annotation_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(records: list[Record]) -> list[str]:
    """`::error` / `::warning` workflow commands, one per fail and warn, with file, line and column where the
    evidence names them (config files do)."""
    out = []
    for record in problems(records):
        props = []
        where = next((m for m in map(_LOCATION.match, record.evidence) if m), None)
        if where:
            props += [f"file={_annotation_property(where['file'])}", f"line={where['line']}", f"col={where['col']}"]
        props.append(f"title={_annotation_property(f'claude-preflight {record.name}')}")
        message = record.summary + ("\n" + record.remediation if record.remediation else "")
        kind = "error" if record.status in ("fail", "error") else "warning"
        out.append(f"::{kind} {','.join(props)}::{_annotation_data(message)}")
    return out


def rewrite_junit(path, by_case: dict[tuple[str, str], Record], suite: str = "claude-preflight") -> None:
    """Name pytest's JUnit test cases by check id and target (classname claude-preflight.<family>), and give each
    warn a system-out with its text (JUnit has no warn: the status property says it)."""
    import xml.etree.ElementTree as ET

    tree = ET.parse(path)
    for case in tree.getroot().iter("testcase"):
        record = by_case.get((case.get("classname", ""), case.get("name", "")))
        if record is None:
            continue
        case.set("classname", f"{suite}.{record.family}")
        case.set("name", record.name)
        if record.status == "warn":
            out = case.find("system-out")
            if out is None:
                out = ET.SubElement(case, "system-out")
            out.text = (out.text or "") + as_text(record) + "\n"
    root = tree.getroot()
    for suite_node in [root, *root.iter("testsuite")]:
        suite_node.set("name", suite)
    temp = f"{path}.preflight-tmp"
    tree.write(temp, encoding="utf-8", xml_declaration=True)
    os.replace(temp, path)
