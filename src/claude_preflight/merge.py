"""claude-preflight merge: many runs' JSON reports in one fleet view, hosts x checks, worst first.

Each report (schema claude-preflight/1, from `claude-preflight --json` on a machine or in a CI job) becomes a
row; each check id a column, its cell the worst status of that check's results on that host. Files that are
not such a report are named on stderr and in the outputs, and skipped. When several reports carry the same
host label, the newest is shown and the others are listed as superseded.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import html
import json
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from claude_preflight import __version__, catalogue
from claude_preflight.env import Env
from claude_preflight.outcome import Status, worst
from claude_preflight.probes.files import read_json
from claude_preflight.redact import Redactor
from claude_preflight.report import COLOURS, SCHEMA, Record, counts, safe_link, visible

FLEET_SCHEMA = "claude-preflight-fleet/1"
MAX_REPORT_BYTES = 64 << 20  # a report is ~100 kB; more is not one of ours
MAX_DIRECTORY_ENTRIES = 200_000
HOVER_LINES = 12  # results listed in one cell's tooltip before "+N more"
STATUSES = [s.value for s in Status]


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass
class HostRun:
    """One report: one host (or image) at one time. Statuses are worked out once: a fleet has thousands of cells."""

    label: str
    source: str
    host: dict
    created: str
    results: list[Record]
    by_check: dict[str, list[Record]] = field(default_factory=dict)
    statuses: dict[str, Status] = field(default_factory=dict)  # check id -> worst status of its results
    counts: dict[str, int] = field(default_factory=dict)
    status: Status = Status.SKIP

    def __post_init__(self) -> None:
        for result in self.results:
            self.by_check.setdefault(result.id, []).append(result)
        self.statuses = {i: _worst_of(results) for i, results in self.by_check.items()}
        self.counts = counts(self.results)
        self.status = worst(self.statuses.values())

    def status_of(self, check_id: str) -> Status | None:
        return self.statuses.get(check_id)

    @property
    def when(self) -> datetime.datetime:
        try:
            moment = datetime.datetime.fromisoformat(self.created)
        except ValueError:
            return datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)
        return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


# -- reading reports -----------------------------------------------------------------------------
def _problem(document: object) -> str | None:
    """Why a parsed JSON document is not a claude-preflight/1 report (None when it is one)."""
    if not isinstance(document, dict):
        return f"not a claude-preflight report (a JSON {type(document).__name__}, not an object)"
    if document.get("schema") != SCHEMA:
        if "schema" not in document:
            return 'not a claude-preflight report (no "schema" key)'
        return f"not a claude-preflight report (schema {str(document.get('schema'))[:80]!r}, expected {SCHEMA!r})"
    host = document.get("host")
    if not isinstance(host, dict) or not isinstance(host.get("hostname"), str):
        return 'report without "host.hostname"'
    if not isinstance(document.get("created"), str):
        return 'report without "created"'
    checks = document.get("checks")
    if not isinstance(checks, list):
        return 'report without a "checks" list'
    for index, check in enumerate(checks):
        if not isinstance(check, dict):
            return f"checks[{index}] is not an object"
        for key in ("id", "title", "status", "summary"):
            if not isinstance(check.get(key), str):
                return f'checks[{index}] has no string "{key}"'
        if check["status"] not in STATUSES:
            return f"checks[{index}] has status {check['status'][:20]!r}, not one of {', '.join(STATUSES)}"
    return None


def shown(path: Path) -> str:
    """A file name as text in every output: bytes that are not UTF-8 (kept by Python as surrogates) and control
    characters are shown escaped, so such a file is named instead of crashing the print or the HTML."""
    return visible(os.fsencode(path).decode("utf-8", "backslashreplace"))


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def load(
    env: Env, path: Path, redact: Callable[[str], str], shared: dict[tuple, Record] | None = None
) -> HostRun | Skipped:
    """One report file as a HostRun, or why it was skipped. Every string kept is redacted again: a report made by
    hand or by an older release must not carry a key into the fleet view. Results the same as one in `shared`
    (the fleet's results so far) are that one Record: 10,000 hosts report mostly the same things."""
    found = read_json(env, path, MAX_REPORT_BYTES)
    if found.state == "too-large":
        return Skipped(shown(path), f"{found.size:,} bytes: too large for a claude-preflight report")
    if found.state != "ok":
        return Skipped(shown(path), found.describe())
    document = found.data
    problem = _problem(document)
    if problem:
        return Skipped(shown(path), problem)
    shared = {} if shared is None else shared
    results = []
    for c in document["checks"]:
        fields = (
            redact(c["id"]),
            redact(c["title"]),
            redact(_text(c.get("family"))) or c["id"].split(".")[0],
            redact(c["target"]) if isinstance(c.get("target"), str) else None,
            c["status"],
            redact(c["summary"]),
            redact(_text(c.get("remediation"))),
            safe_link(redact(c["docs"])) if isinstance(c.get("docs"), str) else None,  # only http(s) links
        )
        record = shared.get(fields)
        if record is None:
            check_id, title, family, target, status, summary, remediation, docs = fields
            record = shared[fields] = Record(
                id=check_id, title=title, family=family, target=target, status=status, summary=summary,
                remediation=remediation, docs=docs,
                evidence=[],  # the fleet view shows summaries; the evidence stays in each host's own report
                duration_s=0.0,
            )  # fmt: skip
        results.append(record)
    host = {k: redact(v) if isinstance(v, str) else None for k, v in document["host"].items()}
    return HostRun(host.get("label") or host["hostname"], shown(path), host, redact(document["created"]), results)


def report_files(env: Env, paths: list[Path]) -> tuple[list[Path], list[Skipped]]:
    """The files named, with every *.json below a named directory (symlinks inside it not followed)."""
    files, skipped = [], []
    for path in paths:
        try:
            is_dir = stat.S_ISDIR(env.stat(path).st_mode)
        except OSError:
            is_dir = False  # reading it names the problem
        if not is_dir:
            files.append(path)
            continue
        below = sorted(p for p, info in env.walk(path, MAX_DIRECTORY_ENTRIES) if p.suffix == ".json"
                       and not stat.S_ISDIR(info.st_mode))  # fmt: skip
        if not below:
            skipped.append(Skipped(shown(path), "a directory with no *.json file"))
        files.extend(below)
    return files, skipped


def collect(env: Env, paths: list[Path], redactor: Redactor) -> tuple[list[HostRun], list[Skipped]]:
    """Every usable report, the newest per host label; everything else as Skipped with its reason."""
    files, skipped = report_files(env, paths)
    redact = functools.lru_cache(maxsize=1 << 16)(redactor)  # a fleet repeats the same texts host after host
    newest: dict[str, HostRun] = {}
    shared: dict[tuple, Record] = {}
    seen: set[str] = set()
    for path in files:
        if os.path.abspath(path) in seen:  # a file named twice (a glob and its directory) counts once
            continue
        seen.add(os.path.abspath(path))
        loaded = load(env, path, redact, shared)
        if isinstance(loaded, Skipped):
            skipped.append(loaded)
            continue
        kept = newest.setdefault(loaded.label, loaded)
        if kept is loaded:
            continue
        older, newer = sorted((kept, loaded), key=lambda run: run.when)
        newest[loaded.label] = newer
        skipped.append(
            Skipped(older.source, f"older report of {older.label!r} ({older.created}); shown: {newer.source}")
        )
    return list(newest.values()), skipped


# -- the fleet: hosts and checks, worst first ------------------------------------------------------
@dataclass(frozen=True)
class Column:
    id: str
    title: str
    hosts: dict[str, list[str]]  # status -> labels of hosts whose cell has it
    example: Record | None  # the worst result on the worst host: its remediation is shown once
    # each distinct remediation among the failing and warning results (fails first), with the hosts it came from:
    # a settings wrong-type failure must not hide behind a .claude.json one of the same check
    distinct: tuple[tuple[Record, tuple[str, ...]], ...] = ()

    @property
    def status(self) -> Status:
        return worst(Status(s) for s, labels in self.hosts.items() if labels)


def order_hosts(runs: list[HostRun]) -> list[HostRun]:
    """Worst first: any fail, then most fails, then most warns; then by label."""
    return sorted(runs, key=lambda run: (-run.status.rank, -run.counts["fail"], -run.counts["warn"], run.label))


def columns(runs: list[HostRun]) -> list[Column]:
    """One column per check id seen anywhere, worst first: most hosts failing, then most warning."""
    ids = list(dict.fromkeys(r.id for run in runs for r in run.results))
    known = {info.id: n for n, info in enumerate(catalogue.CATALOGUE)}
    out = []
    for check_id in ids:
        hosts: dict[str, list[str]] = {s: [] for s in STATUSES}
        title, example = "", None
        for run in runs:  # already worst first
            status = run.status_of(check_id)
            if status is None:
                continue
            hosts[status.value].append(run.label)
            title = title or run.by_check[check_id][0].title
            if example is None and status in (Status.FAIL, Status.WARN):
                example = next(r for r in run.by_check[check_id] if r.status == status.value)
        out.append(Column(check_id, title, hosts, example, _distinct(runs, check_id)))
    return sorted(
        out,
        key=lambda c: (-c.status.rank, -len(c.hosts["fail"]), -len(c.hosts["warn"]), known.get(c.id, len(known)), c.id),
    )


@functools.lru_cache(maxsize=4096)
def _cause(remediation: str) -> str:
    """A remediation without its paths and quoted values: the same fix on two hosts differs only in those."""
    return re.sub(r"'[^']*'|\"[^\"]*\"|~?/[^\s'\",;:)]+|\d+", "_", remediation)


def _distinct(runs: list[HostRun], check_id: str) -> tuple[tuple[Record, tuple[str, ...]], ...]:
    """Each distinct remediation among the check's failing results, then its warning ones, with the hosts (in
    host order) it came from."""
    found: dict[str, tuple[Record, dict[str, None]]] = {}  # a dict of labels: ordered, and found at once
    for wanted in ("fail", "warn"):
        for run in runs:
            status = run.statuses.get(check_id)
            if status is None or status.rank < Status.WARN.rank:  # no warn or fail among its results
                continue
            for result in run.by_check[check_id]:
                if result.status == wanted:
                    found.setdefault(_cause(result.remediation), (result, {}))[1][run.label] = None
    return tuple((record, tuple(labels)) for record, labels in found.values())


_RANKS = {status.value: status.rank for status in Status}


def _worst_of(results: list[Record]) -> Status:
    """The worst status among results (their statuses are strings): what worst() gives, without an enum each."""
    return Status(max((r.status for r in results), key=_RANKS.__getitem__))


def cell_text(run: HostRun, check_id: str) -> str:
    """A cell's tooltip: each result of that check on that host, worst first (oks only counted)."""
    results = sorted(run.by_check.get(check_id, ()), key=lambda r: -Status(r.status).rank)
    if not results:
        return "not run on this host"
    not_ok = [r for r in results if r.status != "ok"]
    shown = not_ok or results[:1]  # all ok: the first one speaks for the cell
    lines = [f"{r.status.upper()} {r.target + ': ' if r.target else ''}{r.summary}" for r in shown[:HOVER_LINES]]
    if len(shown) > HOVER_LINES:
        lines.append(f"+{len(shown) - HOVER_LINES} more")
    oks = len(results) - len(not_ok)
    if oks and not_ok:
        lines.append(f"{oks} ok")
    return "\n".join(lines)


@dataclass(frozen=True)
class Fleet:
    """What both outputs render, worked out once: hosts and columns worst first, and the files skipped."""

    runs: list[HostRun]
    columns: list[Column]
    skipped: list[Skipped]

    @classmethod
    def of(cls, runs: list[HostRun], skipped: list[Skipped]) -> Fleet:
        ordered = order_hosts(runs)
        return cls(ordered, columns(ordered), skipped)

    @property
    def hosts_by_status(self) -> dict[str, int]:
        """How many hosts have each status as their worst."""
        return {s: sum(run.status.value == s for run in self.runs) for s in STATUSES}


# -- outputs ---------------------------------------------------------------------------------------
def as_json(fleet: Fleet) -> dict:
    return {**_json_head(fleet), "hosts": [_host_json(run) for run in fleet.runs], **_json_tail(fleet)}


def json_chunks(fleet: Fleet) -> Iterator[str]:
    """json.dumps(as_json(fleet)), a host at a time: the document for 10,000 hosts is never held whole."""
    head, tail = json.dumps(_json_head(fleet)), json.dumps(_json_tail(fleet))
    yield head[:-1] + ', "hosts": ['
    for n, run in enumerate(fleet.runs):
        yield (", " if n else "") + json.dumps(_host_json(run))
    yield "], " + tail[1:] + "\n"


def _json_head(fleet: Fleet) -> dict:
    return {
        "schema": FLEET_SCHEMA,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "summary": fleet.hosts_by_status | {"hosts": len(fleet.runs)},
    }


def _host_json(run: HostRun) -> dict:
    return {
        "label": run.label,
        "hostname": run.host.get("hostname"),
        "platform": run.host.get("platform"),
        "claude_version": run.host.get("claude_version"),
        "created": run.created,
        "source": run.source,
        "status": run.status.value,
        "summary": run.counts,
        "checks": {
            check_id: {
                "status": run.status_of(check_id).value,
                "results": [{"target": r.target, "status": r.status, "summary": r.summary} for r in results],
            }
            for check_id, results in run.by_check.items()
        },
    }


def _json_tail(fleet: Fleet) -> dict:
    return {
        "checks": [
            {
                "id": column.id,
                "title": column.title,
                "status": column.status.value,
                "hosts": column.hosts,
                "remediation": column.example.remediation if column.example else "",
                "docs": column.example.docs if column.example else None,
                "remediations": [
                    {
                        "status": r.status,
                        "target": r.target,
                        "summary": r.summary,
                        "remediation": r.remediation,
                        "docs": r.docs,
                        "hosts": list(labels),
                    }
                    for r, labels in column.distinct
                ],  # fmt: skip
            }
            for column in fleet.columns
        ],
        "skipped": [{"path": s.path, "reason": s.reason} for s in fleet.skipped],
    }


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:1.5em;color:#212121}
h1{margin-bottom:.2em} .meta{color:#616161;margin-top:0}
.wrap{overflow:auto;max-height:80vh;border:1px solid #ddd}
table.fleet{border-collapse:collapse;font-size:13px}
table.fleet th,table.fleet td{border:1px solid #e0e0e0;padding:3px 6px;white-space:nowrap}
table.fleet thead th{position:sticky;top:0;background:#fafafa;z-index:2;vertical-align:bottom}
table.fleet thead th.check{height:11em;padding:0 2px}
table.fleet thead th.check div{writing-mode:vertical-rl;transform:rotate(180deg);text-align:left}
table.fleet thead a{color:inherit}
table.fleet th.host{position:sticky;left:0;background:#fafafa;text-align:left;z-index:1}
table.fleet td.cell{text-align:center;color:#fff;font-weight:bold;cursor:default;min-width:2.6em}
table.fleet td.none{background:#f5f5f5;color:#9e9e9e}
.host small{color:#757575;font-weight:normal}
.rem{border-left:6px solid #ccc;padding:.3em 1em;margin:1em 0}
.rem pre{white-space:pre-wrap;background:#f5f5f5;padding:.6em}
.counts span{font-weight:bold;margin-right:1em}
"""


def _badge(status: str, text: str) -> str:
    return f'<span style="color:{COLOURS[status]}">{html.escape(text)}</span>'


def _host_header(run: HostRun) -> str:
    host = run.host
    detail = " · ".join(
        str(x) for x in (host.get("hostname") if host.get("hostname") != run.label else None,
                         host.get("platform"), f"claude {host['claude_version']}" if host.get("claude_version")
                         else "no claude", run.created) if x
    )  # fmt: skip
    title = html.escape(f"{run.source}\n{detail}", quote=True)
    counts = ", ".join(f"{n} {s}" for s, n in run.counts.items() if n)
    return f'<th class="host" title="{title}">{html.escape(run.label)}<br><small>{html.escape(counts)}</small></th>'


def _cell(run: HostRun, column: Column) -> str:
    status = run.status_of(column.id)
    tip = html.escape(cell_text(run, column.id), quote=True)
    if status is None:
        return f'<td class="cell none" title="{tip}">–</td>'
    return (
        f'<td class="cell" data-status="{status.value}" title="{tip}" '
        f'style="background:{COLOURS[status.value]}">{status.value.upper()}</td>'
    )


def _remediation(column: Column, example: Record) -> str:
    affected = "; ".join(
        f"{status} on {len(labels)}: {', '.join(labels)}" for status, labels in column.hosts.items()
        if labels and status in ("fail", "warn")
    )  # fmt: skip
    variants = column.distinct or ((example, tuple(column.hosts[example.status][:1])),)
    return (
        f'<div class="rem" id="check-{html.escape(column.id)}" style="border-color:{COLOURS[column.status.value]}">'
        f"<h3>{html.escape(column.id)}: {html.escape(column.title)}</h3>"
        f"<p>{html.escape(affected)}</p>{''.join(_variant(record, labels) for record, labels in variants)}</div>"
    )


def _variant(record: Record, labels: tuple[str, ...]) -> str:
    where = f"{record.target} on " if record.target else ""
    hosts = ", ".join(labels[:5]) + (f" and {len(labels) - 5} more" if len(labels) > 5 else "")
    link = safe_link(record.docs)
    docs = f'<p><a href="{html.escape(link)}">{html.escape(link)}</a></p>' if link else ""
    return (
        f"<p>{_badge(record.status, record.status.upper())} as reported for {html.escape(where)}"
        f"<b>{html.escape(hosts)}</b>: {html.escape(record.summary)}</p>"
        f"<pre>{html.escape(record.remediation)}</pre>{docs}"
    )


def as_html(fleet: Fleet) -> str:
    return "".join(html_chunks(fleet))


def html_chunks(fleet: Fleet) -> Iterator[str]:
    """The fleet view, a host row at a time: 10,000 hosts make a 60 MB page, never held whole."""
    runs, cols, skipped = fleet.runs, fleet.columns, fleet.skipped
    head = "".join(
        f'<th class="check" title="{html.escape(c.title, quote=True)}"><div>'
        f'<a href="#check-{html.escape(c.id)}">{html.escape(c.id)}</a></div></th>'
        if c.example else
        f'<th class="check" title="{html.escape(c.title, quote=True)}"><div>{html.escape(c.id)}</div></th>'
        for c in cols
    )  # fmt: skip
    created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    badges = "".join(_badge(s, f"{n} {s}") for s, n in fleet.hosts_by_status.items() if n)
    yield (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>claude-preflight fleet: {len(runs)} hosts</title><style>{_STYLE}</style></head><body>"
        f'<h1>claude-preflight fleet</h1><p class="meta">{len(runs)} hosts, {len(cols)} checks · merged '
        f"{created} by claude-preflight {__version__} · hover a cell for its results</p>"
        f'<p class="counts">hosts by worst status: {badges}</p>'
        f'<div class="wrap"><table class="fleet"><thead><tr><th class="host">host</th>{head}</tr></thead><tbody>'
    )
    cells: dict[tuple, str] = {}  # hosts with the same results in a check (the same Records) share the cell
    for run in runs:
        row = []
        for column in cols:
            key = (column.id, *map(id, run.by_check.get(column.id, ())))
            cell = cells.get(key)
            if cell is None:
                cell = cells[key] = _cell(run, column)
            row.append(cell)
        yield f"<tr>{_host_header(run)}{''.join(row)}</tr>"
    remediations = "".join(_remediation(c, c.example) for c in cols if c.example)
    skipped_html = ""
    if skipped:
        items = "".join(f"<li><code>{html.escape(s.path)}</code>: {html.escape(s.reason)}</li>" for s in skipped)
        skipped_html = f"<h2>Skipped files ({len(skipped)})</h2><ul>{items}</ul>"
    yield (
        "</tbody></table></div>"
        f"<h2>Remediation</h2>{remediations or '<p>Nothing to fix: no check warned or failed.</p>'}"
        f"{skipped_html}</body></html>\n"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="claude-preflight merge", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "reports", nargs="+", type=Path, help="JSON reports (claude-preflight/1), or directories of them"
    )
    parser.add_argument("--html", type=Path, metavar="PATH", help="write the fleet view here (self-contained HTML)")
    parser.add_argument("--json", type=Path, metavar="PATH", help=f"write the merged results here ({FLEET_SCHEMA})")
    args = parser.parse_args(argv)
    if not args.html and not args.json:
        parser.error("nothing to write: give --html PATH and/or --json PATH")
    env = Env(home=Path.home(), project=Path.cwd())
    runs, skipped = collect(env, args.reports, Redactor())
    for item in skipped:
        print(f"skipped {item.path}: {item.reason}", file=sys.stderr)
    if not runs:
        print("claude-preflight merge: no claude-preflight report among the files given", file=sys.stderr)
        return 2
    fleet = Fleet.of(runs, skipped)
    outputs = []
    if args.html:
        outputs.append((args.html, html_chunks(fleet)))
    if args.json:
        outputs.append((args.json, json_chunks(fleet)))  # no indent: the C encoder
    for path, chunks in outputs:
        path.parent.mkdir(parents=True, exist_ok=True)
        Env.write_atomically(path, (chunk.encode("utf-8") for chunk in chunks), 0o644)
        print(f"wrote {path}")
    failing = fleet.hosts_by_status["fail"]
    print(f"{len(runs)} hosts: {failing} with a failing check, {len(skipped)} files skipped")
    return 0
