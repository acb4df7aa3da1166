"""Report records and their renderings: terminal text, JSON (claude-preflight/1), HTML fragments."""

from __future__ import annotations

import datetime
import html
import platform
import re
import socket
from dataclasses import asdict, dataclass

from claude_preflight import catalogue
from claude_preflight.outcome import Status, worst
from claude_preflight.rules import settings_schema

SCHEMA = "claude-preflight/1"
COLOURS = {"ok": "#2e7d32", "warn": "#b26a00", "fail": "#c62828", "skip": "#616161"}


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

    @property
    def name(self) -> str:
        return f"{self.id}[{self.target_id}]" if self.target_id else self.id

    @property
    def target_id(self) -> str:
        match = re.search(r"\[(.*)\]$", self.nodeid)
        return match.group(1) if match else ""


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


def json_document(records: list[Record], claude_version: str | None, label: str | None = None) -> dict:
    hostname = socket.gethostname()
    return {
        "schema": SCHEMA,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": {
            "hostname": hostname,
            "label": label or hostname,
            "platform": platform.platform(),
            "python": platform.python_version(),
            "claude_version": claude_version,
            "settings_schema_version": settings_schema.CLI_VERSION,
        },
        "summary": counts(records),
        "checks": [
            {k: v for k, v in asdict(r).items() if k != "nodeid"} | {"duration_s": round(r.duration_s, 4)}
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


def html_summary(records: list[Record]) -> str:
    """The at-a-glance block at the top of the HTML report: counts and one tile per family."""
    total = counts(records)
    count_html = " ".join(f'<span style="color:{COLOURS[s]};font-weight:bold">{n} {s}</span>' for s, n in total.items())
    tiles = []
    for family, status in family_status(records).items():
        members = [r for r in records if r.family == family]
        detail = ", ".join(f"{n} {s}" for s, n in counts(members).items() if n)
        tiles.append(
            f'<div class="preflight-tile" data-status="{status}" style="display:inline-block;margin:4px;'
            f'padding:8px 14px;border-radius:6px;color:#fff;background:{COLOURS[status]};min-width:9em">'
            f"<b>{html.escape(family)}</b><br>{status.upper()}<br><small>{html.escape(detail)}</small></div>"
        )
    verdict = worst(Status(r.status) for r in records).value if records else "skip"
    return (
        '<div id="preflight-summary" style="margin:1em 0">'
        f'<h2 style="color:{COLOURS[verdict]}">claude-preflight: {verdict.upper()}</h2>'
        f"<p>{count_html}</p>{''.join(tiles)}</div>"
    )


def html_remediation(record: Record | None) -> str:
    if record is None:
        return "<td></td>"
    if record.status == "ok":
        return f"<td>{html.escape(record.summary)}</td>"
    parts = [f"<b>{html.escape(record.summary)}</b>"]
    if record.evidence:
        parts.append("<ul>" + "".join(f"<li><code>{html.escape(e)}</code></li>" for e in record.evidence) + "</ul>")
    if record.remediation:
        parts.append(f'<pre style="white-space:pre-wrap">{html.escape(record.remediation)}</pre>')
    if record.docs:
        parts.append(f'<a href="{html.escape(record.docs)}">{html.escape(record.docs)}</a>')
    return f'<td class="col-remediation">{"".join(parts)}</td>'


def html_status(record: Record | None) -> str:
    if record is None:
        return "<td></td>"
    colour = COLOURS[record.status]
    return f'<td class="col-status" style="color:{colour};font-weight:bold">{record.status.upper()}</td>'
