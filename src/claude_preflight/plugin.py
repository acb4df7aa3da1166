"""The pytest plugin: options, fixtures, outcome mapping, redaction, reports, terminal summary.

Loaded by the clone's conftest.py (`pytest checks`) or by the console command with `-p`.
"""

from __future__ import annotations

import html
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from claude_preflight import __version__, children
from claude_preflight.checking import CheckSpec, discover, internal_error, run
from claude_preflight.env import PLATFORMS, Env, current_platform
from claude_preflight.outcome import Result
from claude_preflight.policy import THRESHOLDS, Policy, default
from claude_preflight.probes.install import running_version
from claude_preflight.probes.secrets import collect_secrets
from claude_preflight.redact import Redactor, is_secret_name
from claude_preflight.report import Record, as_text, html_remediation, html_status, html_summary, json_document

REPORT_NAME = "claude-preflight"
METADATA_ALLOWED = {"Python", "Platform", "Packages", "Plugins", "claude-preflight"}


@dataclass
class RunState:
    env: Env
    policy: Policy
    redact: Redactor
    strict: bool
    json_path: Path
    html_path: Path | None
    host_label: str | None = None
    records: list[Record] = field(default_factory=list)


STATE = pytest.StashKey[RunState]()
RESULT = pytest.StashKey[tuple[Result, float]]()


def _spec(item) -> CheckSpec | None:
    return getattr(getattr(item, "function", None), "preflight_spec", None)


# -- options ---------------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("claude-preflight", "claude-preflight: what to check")
    group.addoption("--home", metavar="PATH", help="home directory whose Claude Code files are read (default: $HOME)")
    group.addoption("--project", metavar="PATH", help="project Claude Code would start in (default: current directory)")
    group.addoption("--sysroot", metavar="PATH", default="/", help="root for /proc, /sys, /etc, /mnt/c (default: /)")
    group.addoption("--platform", choices=PLATFORMS, default=None,
                    help="for tests and simulations only: judge as this system (with --sysroot holding its files)")  # fmt: skip
    group.addoption("--offline", action="store_true", help="checks that need the network end skip")
    group.addoption("--live", action="store_true", help="also stream one real reply (spends about one output token)")
    group.addoption("--no-mcp-start", action="store_true", help="MCP servers get static checks only (none is started)")
    group.addoption("--json", metavar="PATH", dest="preflight_json", help="write results as JSON (claude-preflight/1)")
    group.addoption(
        "--host-label",
        metavar="TEXT",
        help="the name this run goes by in a fleet view (claude-preflight merge); default: the hostname",
    )
    group.addoption(
        "--fix",
        action="store_true",
        dest="preflight_fix",
        help="repair damaged transcripts and session indexes (backup first, atomic, idempotent); nothing is "
        "written without it",
    )
    group.addoption(
        "--all-sessions",
        action="store_true",
        help="the session checks read every transcript, not only those changed in recent_session_days",
    )
    for name, text in THRESHOLDS.items():
        parser.addini(name, f"{text} (default {default(name)})", default=default(name))
    parser.addini("reports_dir", "where the HTML and JSON reports go by default (default: reports)", default="reports")


def _strict(config: pytest.Config) -> bool:
    # pytest 9 turns --strict into the "strict" ini value; pytest 8 keeps it as an option.
    try:
        if config.getini("strict") in (True, "true", "True", "1"):
            return True
    except ValueError:
        pass
    return bool(getattr(config.option, "strict", False))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "preflight: a claude-preflight check")
    children.reset()  # a new run (the self-tests run several in one process) may start processes again
    home = Path(config.getoption("home") or os.environ.get("HOME") or Path.home()).expanduser().absolute()
    project = Path(config.getoption("project") or config.invocation_params.dir).expanduser().absolute()
    env = Env(home=home, project=project, sysroot=Path(config.getoption("sysroot")).absolute(),
              platform=config.getoption("platform") or current_platform())  # fmt: skip
    policy = Policy.from_strings(
        {n: config.getini(n) for n in THRESHOLDS},
        offline=config.getoption("offline"),
        live=config.getoption("live"),
        mcp_start=not config.getoption("no_mcp_start"),
        fix=config.getoption("preflight_fix"),
        all_sessions=config.getoption("all_sessions"),
    )
    redact = Redactor(learned=env.this_run.learned)
    try:
        redact.add(collect_secrets(env, policy.config_max_bytes))
    except Exception:  # noqa: BLE001 - pattern redaction still applies; the config checks report the file
        redact.add(v for k, v in env.environ.items() if is_secret_name(k))
    reports = Path(config.getini("reports_dir"))
    if not reports.is_absolute():
        reports = config.rootpath / reports
    html_path = None
    if hasattr(config.option, "htmlpath"):
        if not config.option.htmlpath:
            config.option.htmlpath = str(reports / f"{REPORT_NAME}.html")
        config.option.self_contained_html = True
        html_path = Path(config.option.htmlpath).absolute()
    json_path = Path(config.getoption("preflight_json") or reports / f"{REPORT_NAME}.json").absolute()
    if config.option.tbstyle == "auto":
        # The summary section below carries each failure's remediation; pytest's FAILURES section would repeat it.
        config.option.tbstyle = "no"
    config.stash[STATE] = RunState(
        env, policy, redact, _strict(config), json_path, html_path, config.getoption("host_label")
    )


def pytest_report_header(config: pytest.Config) -> str:
    state = config.stash[STATE]
    return f"claude-preflight {__version__}: home {state.env.home}, project {state.env.project}, sysroot {state.env.sysroot}"


# -- collection and fixtures -----------------------------------------------------------------
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    spec = getattr(metafunc.function, "preflight_spec", None)
    if spec is None or spec.targets is None or "target" not in metafunc.fixturenames:
        return
    state = metafunc.config.stash[STATE]
    targets = discover(spec, state.env, state.policy)
    metafunc.parametrize("target", targets, ids=[str(t.id) for t in targets])


def pytest_itemcollected(item: pytest.Item) -> None:
    # `-k network.api-key` (as diagnose and the remediation texts print it) selects a check by its id.
    spec = _spec(item)
    if spec is not None:
        item.extra_keyword_matches.add(spec.info.id)


@pytest.fixture(scope="session")
def env(pytestconfig: pytest.Config) -> Env:
    return pytestconfig.stash[STATE].env


@pytest.fixture(scope="session")
def policy(pytestconfig: pytest.Config) -> Policy:
    return pytestconfig.stash[STATE].policy


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function):
    spec = _spec(pyfuncitem)
    if spec is None:
        return None
    start = time.perf_counter()
    args = pyfuncitem.funcargs
    result = run(spec, args["env"], args["policy"], args.get("target"))
    pyfuncitem.stash[RESULT] = (result, time.perf_counter() - start)
    return True


# -- outcome mapping and redaction -----------------------------------------------------------
def _record(item, result: Result, duration: float, redact: Redactor) -> Record:
    spec = _spec(item)
    target = item.callspec.params.get("target") if hasattr(item, "callspec") else None
    label = getattr(target, "label", None)
    return Record(
        id=spec.info.id,
        title=spec.info.title,
        family=spec.info.family,
        target=redact(str(label)) if label is not None else None,
        status=result.status.value,
        summary=redact(result.summary),
        evidence=[redact(line) for line in result.evidence],
        remediation=redact(result.remediation),
        docs=result.docs or (spec.info.docs if result.status.value in ("warn", "fail") else None),
        duration_s=duration,
        nodeid=redact(item.nodeid),
    )


def _apply(report: pytest.TestReport, item, record: Record) -> None:
    report.preflight = record
    if record.status == "fail":
        report.outcome = "failed"
        report.longrepr = as_text(record)
    elif record.status == "skip":
        report.outcome = "skipped"
        report.longrepr = (str(item.path), (item.location[1] or 0) + 1, f"Skipped: {record.summary}")
    properties = [
        ("status", record.status),
        ("summary", record.summary),
        ("evidence", "\n".join(record.evidence)),
        ("remediation", record.remediation),
        ("docs", record.docs or ""),
    ]
    item.user_properties.extend(properties)  # JUnit reads them from the teardown report
    report.user_properties.extend(properties)


def _redact_report(report, redact: Redactor) -> None:
    if report.longrepr is not None:
        if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
            path, line, message = report.longrepr
            report.longrepr = (path, line, redact(str(message)))
        else:
            report.longrepr = redact(report.longreprtext)
    report.sections = [(redact(title), redact(text)) for title, text in report.sections]
    if hasattr(report, "user_properties"):  # test reports have them, collect reports do not
        report.user_properties = [(name, redact(str(value))) for name, value in report.user_properties]
    for extra in getattr(report, "extras", None) or []:
        if isinstance(extra.get("content"), str) and extra.get("format_type") in ("text", "json", "html", "url"):
            extra["content"] = redact(extra["content"])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    state = item.config.stash[STATE]
    # pytest's own content first; a check's record is attached after, already redacted: redacting it twice would
    # mask ordinary words (the check id "network.api-key" followed by ": cannot ..." looks like a key and value).
    _redact_report(report, state.redact)
    spec = _spec(item)
    if spec is not None:
        if report.when == "call" and RESULT in item.stash:
            result, duration = item.stash[RESULT]
            record = _record(item, result, duration, state.redact)
            state.records.append(record)
            _apply(report, item, record)
        elif report.when == "setup" and report.failed:
            # A fixture broke before the check could run: still a result with the error text.
            record = _record(item, internal_error(report.longreprtext), report.duration, state.redact)
            state.records.append(record)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    report = yield
    if STATE in collector.config.stash:
        _redact_report(report, collector.config.stash[STATE].redact)
    return report


def pytest_report_teststatus(report, config):
    record = getattr(report, "preflight", None)
    if report.when == "call" and record is not None and record.status == "warn":
        return "warned", "W", ("WARN", {"yellow": True})
    return None


# -- end of run: exit code, JSON, terminal summary -------------------------------------------
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(STATE, None)
    if state is None or not state.records:
        return
    if state.strict and exitstatus == 0 and any(r.status == "warn" for r in state.records):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    document = state.redact.value(
        json_document(state.records, running_version(state.env, state.policy.probe_timeout_s), state.host_label)
    )
    state.json_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = state.json_path.with_name(state.json_path.name + ".tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    tmp.replace(state.json_path)


def pytest_unconfigure(config: pytest.Config) -> None:
    # Runs on Ctrl-C too: no process started by a check (nor its descendants) may outlive the run.
    children.stop_all()
    state = config.stash.get(STATE, None)
    if state is not None:
        state.env.this_run.clear()  # the facts of this run go with it (a test process runs many)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    state = config.stash.get(STATE, None)
    if state is None or not state.records:
        return
    problems = [r for r in state.records if r.status in ("fail", "warn")]
    terminalreporter.section("claude-preflight: what to fix" if problems else "claude-preflight: all clear")
    for record in sorted(problems, key=lambda r: r.status != "fail"):
        colour = {"fail": {"red": True, "bold": True}, "warn": {"yellow": True, "bold": True}}[record.status]
        text = as_text(record).splitlines()
        terminalreporter.write_line(text[0], **colour)
        for line in text[1:]:
            terminalreporter.write_line(f"    {line}")
        terminalreporter.write_line("")
    totals = ", ".join(f"{sum(r.status == s for r in state.records)} {s}" for s in ("ok", "warn", "fail", "skip"))
    terminalreporter.write_line(
        f"claude-preflight: {totals}" + (" (--strict: warn fails the run)" if state.strict else "")
    )
    terminalreporter.write_line(f"JSON report: {state.json_path}")
    if state.html_path:
        terminalreporter.write_line(f"HTML report: {state.html_path}")


# -- pytest-html and pytest-metadata (optional: only when those plugins are loaded) -----------
def _record_of(report) -> Record | None:
    return getattr(report, "preflight", None)


@pytest.hookimpl(optionalhook=True)
def pytest_html_report_title(report) -> None:
    report.title = "claude-preflight report"


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_summary(prefix, summary, postfix, session) -> None:
    state = session.config.stash.get(STATE, None)
    if state is not None and state.records:
        prefix.append(html_summary(state.records))


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_header(cells) -> None:
    cells.insert(2, '<th class="sortable" data-column-type="status">Status</th>')
    cells.insert(3, "<th>Remediation</th>")


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_row(report, cells) -> None:
    record = _record_of(report)
    cells.insert(2, html_status(record))
    cells.insert(3, html_remediation(record))


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_html(report, data) -> None:
    record = _record_of(report)
    if record is not None and record.status == "skip":
        data[:] = [html.escape(f"Skipped: {record.summary}") + "\n"]  # not pytest's raw (path, line, reason)


@pytest.hookimpl(optionalhook=True)
def pytest_metadata(metadata, config) -> None:
    # Keep the environment table to an allowlist: pytest-metadata copies CI variables into it.
    for key in list(metadata):
        if key not in METADATA_ALLOWED:
            del metadata[key]
    metadata["claude-preflight"] = __version__
