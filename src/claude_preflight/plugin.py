"""The pytest plugin: options, fixtures, outcome mapping, redaction, reports, terminal summary.

Loaded by the clone's conftest.py (`pytest checks`) or by the console command with `-p`.
"""

from __future__ import annotations

import gc
import html
import json
import os
import signal
import sys
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from _pytest.junitxml import mangle_test_address

from claude_preflight import __version__, children
from claude_preflight.checking import CheckSpec, begin_facts, discover, internal_error, keep_facts, run, start_early
from claude_preflight.env import PLATFORMS, Env, current_platform
from claude_preflight.outcome import Result
from claude_preflight.policy import THRESHOLDS, Policy, default
from claude_preflight.probes.install import running, running_version
from claude_preflight.probes.secrets import collect_secrets
from claude_preflight.redact import Redactor, is_secret_name
from claude_preflight.report import (
    Record,
    as_text,
    finding_anchor,
    github_annotations,
    html_status,
    html_summary,
    html_summary_cell,
    json_document,
    markdown_report,
    rewrite_junit,
    safe_id,
    visible,
    visible_lines,
)
from claude_preflight.report import safe_link as _safe_link
from claude_preflight.terminal import (
    COLOURS,
    MARKS,
    describe_claude,
    family_lines,
    header_lines,
    marks_for,
    problem_blocks,
    repair_lines,
    result_line,
    verdict,
)

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
    verbose: int = 0
    started: float | None = None
    marks: dict[str, str] = field(default_factory=lambda: dict(MARKS))
    reporter: object = None
    previous_sigterm: object = None
    interrupted: bool = False
    output_format: str = "text"
    markdown_path: Path | None = None
    by_case: dict = field(default_factory=dict)  # (JUnit classname, name) -> record
    environment: dict | None = None
    begun: dict = field(default_factory=dict)  # facts begun before collection (checking.begin_facts)


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
        "--format",
        dest="preflight_format",
        choices=("text", "github"),
        default="text",
        help="github: also ::error/::warning annotations, and the Markdown summary appended to $GITHUB_STEP_SUMMARY",
    )
    group.addoption("--markdown", metavar="PATH", dest="preflight_markdown", help="write a Markdown summary here")
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


def _check_overrides(config: pytest.Config) -> None:
    """`-o NAME=VALUE` on the pytest route too: a misspelt or non-numeric threshold is a usage error, never an
    INTERNALERROR or a silently ignored name."""
    from claude_preflight.cli import check_override

    for text in getattr(config.option, "override_ini", None) or []:
        problem = check_override(text, lambda: set(config._parser._inidict))
        if problem:
            raise pytest.UsageError(problem)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "preflight: a claude-preflight check")
    gc.unfreeze()  # what an earlier run in this process froze (see pytest_collection_finish)
    _check_overrides(config)
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
    if getattr(config.option, "reportchars", None) == "fE":
        # pytest's default short summary repeats every FAILED with a truncated node id after ours: errors only.
        config.option.reportchars = "E"
    state = RunState(env, policy, redact, _strict(config), json_path, html_path, config.getoption("host_label"))
    state.output_format = config.getoption("preflight_format") or "text"
    markdown = config.getoption("preflight_markdown")
    state.markdown_path = Path(markdown).absolute() if markdown else None
    config.stash[STATE] = state
    _interrupt_on_sigterm(state)
    _report_defaults(config)
    # A big history's scan starts while pytest collects (checking.FACTS); --collect-only and --help run no check.
    if not (config.option.collectonly or getattr(config.option, "help", False)):
        state.begun = begin_facts(env, policy)


def _report_defaults(config: pytest.Config) -> None:
    """HTML worst first and compact: sort by our Status column, rows collapsed (their text is in the static
    section); the JUnit suite is ours. Only where the user has not set these ini options; getini caches, so the
    cache is where they go."""
    for name, pytest_default, ours in (
        ("initial_sort", "result", "status"),
        ("render_collapsed", "passed", "all"),
        ("junit_suite_name", "pytest", "claude-preflight"),
    ):
        try:
            if config.getini(name) == pytest_default:
                config._inicache[name] = ours
        except (ValueError, AttributeError):  # pytest-html not loaded, or pytest's cache moved
            pass


def _interrupt_on_sigterm(state: RunState) -> None:
    """SIGTERM (a CI job cancelled, `timeout`, systemd) ends the run as Ctrl-C does: pytest stops, the reports are
    written with what finished, and pytest_unconfigure stops what the run started."""
    if threading.current_thread() is not threading.main_thread():
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt("SIGTERM: stopped; the reports keep the checks that finished")

    try:
        state.previous_sigterm = signal.signal(signal.SIGTERM, interrupt)
    except (ValueError, OSError):  # not allowed here (an embedding host): keep the default
        state.previous_sigterm = None


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Our header instead of pytest's: which Claude Code runs, home, project (pytest's with -vv)."""
    config = session.config
    state = config.stash.get(STATE, None)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if state is None or reporter is None or config.option.verbose >= 2:
        return
    state.reporter = reporter
    state.marks = marks_for(getattr(getattr(reporter._tw, "_file", None), "encoding", None))
    state.started = time.monotonic()
    reporter.startpath = config.rootpath  # progress lines read test_config.py, never a site-packages path
    reporter.summary_stats = lambda: _verdict(reporter, state)  # the verdict is the run's last line
    if config.option.verbose < 0:
        return  # -q: no header
    _quieten(reporter, long_lines=config.option.verbose != 1)
    if config.option.verbose == 1:
        # -v: our line per result (check id, target, summary) replaces pytest's node id lines.
        reporter.showfspath = False
        state.verbose = 1
    try:
        claude = describe_claude(running(state.env, state.policy.probe_timeout_s))
    except Exception as exc:  # noqa: BLE001 - a header line must never stop the run
        claude = f"unknown ({type(exc).__name__}: {exc})"
    reporter.write_sep("=", f"claude-preflight {__version__}", bold=True)
    for line in header_lines(state.redact(claude), str(state.env.home), str(state.env.project)):
        reporter.write_line(line)


def _quieten(reporter, long_lines: bool) -> None:
    """No pytest session header (and with -v no node id lines): these are read-only properties of pytest's
    TerminalReporter, so this one reporter gets a subclass that answers False."""
    attrs = {"showheader": property(lambda self: False)}
    if not long_lines:
        attrs["showlongtestinfo"] = property(lambda self: False)
    reporter.__class__ = type("PreflightTerminalReporter", (type(reporter),), attrs)


def pytest_report_header(config: pytest.Config) -> str:
    # Only shown with -vv (pytest's own header) or when our session start did not run.
    state = config.stash[STATE]
    return f"claude-preflight {__version__}: home {state.env.home}, project {state.env.project}, sysroot {state.env.sysroot}"


# -- collection and fixtures -----------------------------------------------------------------
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    spec = getattr(metafunc.function, "preflight_spec", None)
    if spec is None or spec.targets is None or "target" not in metafunc.fixturenames:
        return
    state = metafunc.config.stash[STATE]
    targets = discover(spec, state.env, state.policy)
    # Ids go into node ids, the terminal and pytest-html's Test cell: no markup, no control characters.
    metafunc.parametrize("target", targets, ids=[safe_id(str(t.id)) for t in targets])


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
    early = args["env"].this_run.early.get(spec.info.id)  # started with the run: its own time is its duration
    result = run(spec, args["env"], args["policy"], args.get("target"))
    seconds = early.seconds if early is not None and early.seconds is not None else time.perf_counter() - start
    pyfuncitem.stash[RESULT] = (result, seconds)
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
        # Names come from the user's files (server names, folder names): control characters are shown escaped.
        target=visible(redact(str(label))) if label is not None else None,
        status=result.status.value,
        summary=visible(redact(result.summary)),
        evidence=[visible(redact(line)) for line in result.evidence],
        remediation=visible_lines(redact(result.remediation)),
        docs=_safe_link(result.docs or (spec.info.docs if result.status.value in ("warn", "fail") else None)),
        duration_s=duration,
        nodeid=visible(redact(item.nodeid)),
        target_id=safe_id(str(target.id)) if target is not None else "",
    )


def _apply(report: pytest.TestReport, item, record: Record) -> None:
    report.preflight = record
    if record.status in ("fail", "error"):  # an internal error fails the run too (exit 1), reported apart
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
            report._preflight_config = item.config
            names = mangle_test_address(item.nodeid)
            state.by_case[(".".join(names[:-1]), names[-1])] = record
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
    if report.when != "call" or record is None:
        return None
    state = config.stash.get(STATE, None)
    category = {"warn": "warned", "fail": "failed", "error": "failed", "skip": "skipped"}.get(record.status, "passed")
    if state is not None and state.verbose == 1:
        return category, "", ""  # nothing from pytest: our own line follows (pytest_runtest_logreport)
    if record.status == "warn":
        return "warned", "W", ("WARN", {"yellow": True})
    return None


def pytest_runtest_logreport(report) -> None:
    record = getattr(report, "preflight", None)
    if record is None or report.when != "call":
        return
    config = getattr(report, "_preflight_config", None)
    state = config.stash.get(STATE, None) if config else None
    if state is None or state.verbose != 1 or state.reporter is None:
        return
    state.reporter.write_line(result_line(record, state.marks), **COLOURS[record.status])


# -- end of run: exit code, JSON, terminal summary -------------------------------------------
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(STATE, None)
    if state is None or not state.records:
        return
    state.interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    if state.strict and exitstatus == 0 and any(r.status == "warn" for r in state.records):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    document = state.redact.value(
        json_document(
            state.records,
            running_version(state.env, state.policy.probe_timeout_s),
            state.host_label,
            state.env.platform,
        )  # fmt: skip
    )
    state.json_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = state.json_path.with_name(state.json_path.name + ".tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    tmp.replace(state.json_path)
    _write_markdown(session.config, state)


def _write_markdown(config: pytest.Config, state: RunState) -> None:
    """--markdown PATH, and with --format github the job summary ($GITHUB_STEP_SUMMARY, appended as GitHub asks)."""
    targets = [(state.markdown_path, "w")] if state.markdown_path else []
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if state.output_format == "github" and summary:
        targets.append((Path(summary), "a"))
    if not targets:
        return
    text = state.redact(markdown_report(state.records, _environment(config, state)))
    for path, mode in targets:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, mode, encoding="utf-8") as out:
            out.write(text)


def pytest_unconfigure(config: pytest.Config) -> None:
    # Runs on Ctrl-C too: no process started by a check (nor its descendants) may outlive the run.
    children.stop_all()
    state = config.stash.get(STATE, None)
    xmlpath = getattr(config.option, "xmlpath", None)
    if state is not None and state.by_case and xmlpath and os.path.isfile(xmlpath):
        try:
            rewrite_junit(xmlpath, state.by_case)
        except (OSError, ET.ParseError) as exc:  # pytest's file stays as it was written
            sys.stderr.write(f"claude-preflight: could not name the JUnit test cases in {xmlpath}: {exc}\n")
    if state is not None and state.previous_sigterm is not None:
        signal.signal(signal.SIGTERM, state.previous_sigterm)
    if state is not None:
        state.env.this_run.clear()  # the facts of this run go with it (a test process runs many)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    # Everything imported and collected lives to the end of the run: freezing it spares the two garbage
    # collections pytest runs at the end and the interpreter's last one (55 ms of a 350 ms offline run). It stays
    # frozen when the run is over, as the process usually is too; a later run in the same process (the
    # self-tests) thaws it when it starts.
    gc.freeze()
    state = session.config.stash.get(STATE, None)
    if state is not None and not session.config.option.collectonly:  # --collect-only runs nothing, early or not
        specs = list(dict.fromkeys(filter(None, map(_spec, session.items))))
        keep_facts(state.begun, specs)
        start_early(specs, state.env, state.policy)


@pytest.hookimpl(wrapper=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    state = config.stash.get(STATE, None)
    if state is None or not state.records:
        return (yield)
    # pytest-html announces its file with a separator line of its own: ours below names every report once.
    write_sep = terminalreporter.write_sep
    terminalreporter.write_sep = lambda sep, title="", **kw: (
        None if str(title).startswith("Generated html report") else write_sep(sep, title, **kw)
    )
    try:
        result = yield
    finally:
        terminalreporter.write_sep = write_sep
    _summary(terminalreporter, state)
    return result


def _summary(reporter, state: RunState) -> None:
    marks = state.marks
    reporter.write_sep("=", "claude-preflight")
    for status, line in family_lines(state.records, marks):
        reporter.write_line(line, **COLOURS[status])
    if state.policy.fix:
        repairs = repair_lines(state.records)
        reporter.write_sep("-", "--fix: repairs")
        for line in repairs or ["nothing needed repairing"]:
            reporter.write_line(line)
    blocks = problem_blocks(state.records)
    if blocks:
        reporter.write_sep("-", "what to fix")
        for status, lines in blocks:
            reporter.write_line(lines[0], bold=True, **COLOURS[status])
            for line in lines[1:]:
                reporter.write_line(line)
            reporter.write_line("")
    if state.output_format == "github":
        for line in github_annotations(state.records):
            reporter.write_line(line)
    reporter.write_line(f"JSON report: {state.json_path}")
    if state.html_path:
        reporter.write_line(f"HTML report: {state.html_path}")
    if state.markdown_path:
        reporter.write_line(f"Markdown summary: {state.markdown_path}")


def _verdict(reporter, state: RunState) -> None:
    if not state.records:
        return
    seconds = time.monotonic() - state.started if state.started else None
    status, line = verdict(state.records, state.strict, seconds, state.interrupted)
    reporter.write_sep("=", line, bold=True, **COLOURS[status])


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
        prefix.append(html_summary(state.records, _environment(session.config, state)))
        _relabel_outcomes(session.config)


def _environment(config: pytest.Config, state: RunState) -> dict[str, str]:
    """The environment rows of the static section (the metadata table needs JavaScript) and the Markdown."""
    if state.environment is None:
        state.environment = _environment_rows(config, state)
    return state.environment


def _environment_rows(config: pytest.Config, state: RunState) -> dict[str, str]:
    import platform
    import socket

    try:
        claude = describe_claude(running(state.env, state.policy.probe_timeout_s))
    except Exception as exc:  # noqa: BLE001 - a report line must never stop the report
        claude = f"unknown ({type(exc).__name__})"
    from claude_preflight.rules import settings_schema

    host = socket.gethostname()
    rows = {
        "Claude Code": claude,
        "Host": host if not state.host_label or state.host_label == host else f"{state.host_label} ({host})",
        "Platform": f"{platform.platform()}, Python {platform.python_version()}",
        "Home": str(state.env.home),
        "Project": str(state.env.project),
        "Options": _options_text(config) or "(defaults)",
        "claude-preflight": __version__,
    }
    schema = getattr(settings_schema, "CLI_VERSION", None)
    if schema:
        rows["Settings schema"] = f"Claude Code {schema}"
    return {k: visible(state.redact(v)) for k, v in rows.items()}


def _options_text(config: pytest.Config) -> str:
    words = [
        flag
        for flag, dest in (("--offline", "offline"), ("--live", "live"), ("--no-mcp-start", "no_mcp_start"),
                           ("--all-sessions", "all_sessions"), ("--fix", "preflight_fix"))
        if config.getoption(dest)
    ]  # fmt: skip
    if _strict(config):
        words.append("--strict")
    if config.getoption("sysroot") not in (None, "/"):
        words.append(f"--sysroot {config.getoption('sysroot')}")
    if config.option.keyword:
        words.append(f"-k {config.option.keyword!r}")
    words += [f"-o {o}" for o in getattr(config.option, "override_ini", None) or [] if not o.startswith("reports_dir=")]
    return " ".join(words)


def _relabel_outcomes(config: pytest.Config) -> None:
    """pytest-html's filter counts name pytest outcomes; ours count statuses. Name them so the numbers agree: a warn
    is a pytest pass. (pytest-html keeps them on its report object: a private attribute, so best effort.)"""
    labels = {"failed": "fail", "passed": "ok or warn", "skipped": "skip"}
    for plugin in config.pluginmanager.get_plugins():
        outcomes = getattr(getattr(plugin, "_report", None), "_outcomes", None)
        if isinstance(outcomes, dict):
            for key, label in labels.items():
                if isinstance(outcomes.get(key), dict):
                    outcomes[key]["label"] = label


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_header(cells) -> None:
    cells.insert(2, '<th class="sortable" data-column-type="status">Status</th>')
    cells.insert(3, "<th>Summary</th>")


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_row(report, cells) -> None:
    record = _record_of(report)
    # pytest-html puts the node id into the cell unescaped: ours is the check's name, escaped.
    name = record.name if record is not None else report.nodeid
    cells[1] = f'<td class="col-testId">{html.escape(name)}</td>'
    if record is not None and record.status == "warn":
        cells[0] = '<td class="col-result preflight-warn">Passed</td>'  # the filter reads "Passed"; CSS shows Warn
    anchor = finding_anchor(record) if record is not None and record.status in ("error", "fail", "warn") else None
    cells.insert(2, html_status(record))
    cells.insert(3, html_summary_cell(record, anchor))


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_html(report, data) -> None:
    if _record_of(report) is not None:
        data[:] = []  # each text once: evidence and remediation are in the section above, the summary in the row


@pytest.hookimpl(optionalhook=True)
def pytest_metadata(metadata, config) -> None:
    # Keep the environment table to an allowlist: pytest-metadata copies CI variables into it.
    for key in list(metadata):
        if key not in METADATA_ALLOWED:
            del metadata[key]
    metadata["claude-preflight"] = __version__
