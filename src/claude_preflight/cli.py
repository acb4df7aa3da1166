"""`claude-preflight`: a small front end before pytest.

It owns what a person types: `--version`, a short `--help`, the subcommands (with the closest match for a typo),
`--list` (honouring `-k`), and a check of every `-o NAME=VALUE` against our thresholds. A run is then handed to
pytest with the packaged checks and our plugins only, so a `pytest.ini` or `conftest.py` in the current directory
cannot change it. Usage errors exit 2, as argparse's do.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path

from claude_preflight import __version__, catalogue
from claude_preflight.policy import THRESHOLDS, Policy

USAGE_ERROR = 2
PYTEST_USAGE_ERROR = 4
PROG = "claude-preflight"
COMMANDS: dict[str, str] = {
    "diagnose": "name the causes in crash output already in hand: diagnose LOG | - | --session latest",
    "merge": "one fleet view of many runs' JSON reports: merge REPORTS... --html fleet.html",
    "hook": "the SessionStart hook: reads the hook's JSON on stdin, tells Claude Code each warn and fail",
    "install-hook": "add that hook to ~/.claude/settings.json (backup first, shows the diff)",
    "help": "this text",
}
# ini names beyond the thresholds that a run may set with -o.
EXTRA_INI = {"reports_dir": "where the HTML and JSON reports go by default"}


class UsageError(Exception):
    """A mistake in what was typed: printed as `claude-preflight: error: ...`, exit 2."""


# -- the parser ------------------------------------------------------------------------------------
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        add_help=False,
        allow_abbrev=False,  # pytest takes no abbreviations either: --hom must not mean --home here only
        usage=f"{PROG} [options]\n       {PROG} COMMAND [args]",
        description="Find what will crash Claude Code before a long session, and say how to fix each cause.",
        epilog="Commands:\n"
        + "\n".join(f"  {name:<13} {text}" for name, text in COMMANDS.items())
        + f"\n\nExit codes: 0 nothing failed, 1 a check failed (or warned under --strict), 2 usage error."
        f"\n`{PROG} --help-pytest` lists pytest's own options, which a run also takes.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    where = p.add_argument_group("what to check")
    where.add_argument("--home", metavar="PATH", help="home whose Claude Code files are read (default: $HOME)")
    where.add_argument("--project", metavar="PATH", help="project Claude Code would start in (default: .)")
    where.add_argument("--sysroot", metavar="PATH", help="root for /proc, /sys, /etc, /mnt/c (default: /)")
    where.add_argument("--offline", action="store_true", help="checks that need the network end skip")
    where.add_argument("--no-mcp-start", action="store_true", help="MCP servers get static checks only")
    where.add_argument("--live", action="store_true", help="also stream one real reply (about one output token)")
    where.add_argument("--all-sessions", action="store_true", help="read every transcript, not only recent ones")
    where.add_argument("-k", metavar="EXPR", dest="keyword", help="only some checks, by family or id: -k config")
    where.add_argument(
        "-o", metavar="NAME=VALUE", dest="override", action="append", default=[], help="override a threshold"
    )
    what = p.add_argument_group("what to do")
    what.add_argument("--fix", action="store_true", help="repair transcripts and session indexes (backup first)")
    what.add_argument("--strict", action="store_true", help="a warn fails the run (exit 1)")
    what.add_argument("--list", action="store_true", help="print the checks (with -k: the ones it selects)")
    out = p.add_argument_group("reports")
    out.add_argument("--json", metavar="PATH", help="JSON results (claude-preflight/1)")
    out.add_argument("--html", metavar="PATH", help="the self-contained HTML report")
    out.add_argument("--junitxml", metavar="PATH", help="JUnit XML")
    out.add_argument("--markdown", metavar="PATH", help="a Markdown summary (any CI)")
    out.add_argument(
        "--format", choices=("text", "github"), default="text", help="github: annotations and the job summary"
    )
    out.add_argument("--host-label", metavar="TEXT", help="the name of this run in a fleet view")
    out.add_argument("-v", "--verbose", action="count", default=0, help="one line per result, with its summary")
    out.add_argument("-q", "--quiet", action="count", default=0, help="less output")
    info = p.add_argument_group("information")
    info.add_argument("-h", "--help", action="store_true", help="this text")
    info.add_argument("--help-pytest", action="store_true", help="pytest's own options")
    info.add_argument("--version", action="store_true", help="claude-preflight, pytest and Claude Code versions")
    return p


def our_options(p: argparse.ArgumentParser) -> dict[str, bool]:
    """Option string -> whether it takes a value, for every option of ours."""
    return {s: a.nargs != 0 for a in p._actions for s in a.option_strings}


def pytest_options() -> dict[str, bool]:
    """Option string -> takes a value, for pytest and the plugins a run loads. Only needed when an option is not
    ours; it reads pytest's parser (private API), so any change there falls back to passing the option through."""
    from _pytest.config import get_config

    plugins = ["-p", "pytest_metadata.plugin", "-p", "pytest_html.plugin", "-p", "claude_preflight.plugin"]
    config = get_config(plugins)
    config.pluginmanager.consider_preparse(plugins, exclude_only=False)
    found: dict[str, bool] = {}
    parser_ = config._parser
    for group in [parser_._anonymous, *parser_._groups]:
        for option in group.options:
            attrs = option.attrs()
            flag = attrs.get("action") in ("store_true", "store_false", "count", "store_const", "help", "version")
            found.update(dict.fromkeys(option.names(), not flag))
    return found


def pytest_ini_names() -> set[str]:
    from _pytest.config import get_config

    plugins = ["-p", "pytest_metadata.plugin", "-p", "pytest_html.plugin", "-p", "claude_preflight.plugin"]
    config = get_config(plugins)
    config.pluginmanager.consider_preparse(plugins, exclude_only=False)
    return set(config._parser._inidict)


def closest(word: str, choices) -> str:
    import difflib  # only when a word was mistyped

    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {match[0]}?" if match else ""


# -- checks on what was typed --------------------------------------------------------------------
def check_override(text: str, ini_names: Callable[[], set[str]] = pytest_ini_names) -> str | None:
    """Why `-o NAME=VALUE` is wrong (None when it is fine): unknown name (with the closest), bad number."""
    if "=" not in text:
        return f"-o {text}: expected NAME=VALUE, e.g. -o disk_warn_gib=10"
    name, value = (part.strip() for part in text.split("=", 1))
    if name in EXTRA_INI:
        return None if value else f"-o {name}: a value is needed"
    if name not in THRESHOLDS:
        try:
            known = ini_names()
        except Exception:  # noqa: BLE001 - pytest's parser moved (private API): let pytest judge the name
            return None
        if name in known:
            return None  # pytest's own ini option (junit_family, ...): pytest checks it
        return f"-o {name}: not a claude-preflight threshold{closest(name, [*THRESHOLDS, *EXTRA_INI])}"
    kind = type(getattr(Policy, name))
    if kind is str:
        return None if value else f"-o {name}: a value is needed"
    try:
        number = float(value)
    except ValueError:
        return f"-o {name}={value}: not a number (default {getattr(Policy, name)})"
    if not math.isfinite(number) or number < 0:
        return f"-o {name}={value}: must be a finite number, 0 or more (default {getattr(Policy, name)})"
    if kind is int and number != int(number):
        return f"-o {name}={value}: must be a whole number (default {getattr(Policy, name)})"
    return None


def validate(args: list[str]) -> argparse.Namespace:
    """Parse what was typed; raise UsageError for a path, an unknown option or a bad -o."""
    p = parser()
    known, extras = p.parse_known_args(args)
    if extras:
        check_extras(extras, our_options(p))
    for text in known.override:
        problem = check_override(text)
        if problem:
            raise UsageError(problem)
    return known


def check_extras(extras: list[str], ours: dict[str, bool]) -> None:
    """What our parser did not take: pytest's own options are passed on; paths and unknown options are errors."""
    try:
        theirs = pytest_options()
    except Exception:  # noqa: BLE001 - pytest's internals moved: let pytest judge the options itself
        theirs = None
    index = 0
    while index < len(extras):
        token = extras[index]
        index += 1
        if not token.startswith("-") or token == "-":
            raise UsageError(
                f"{token!r}: {PROG} runs its own checks and takes no paths (to check a project: --project PATH)"
            )
        if theirs is None:
            continue
        name = token.split("=", 1)[0]
        if name not in theirs and not _short_with_value(name, theirs):
            raise UsageError(f"unknown option {name}{closest(name, [*ours, *theirs])} ({PROG} --help)")
        if theirs.get(name) and "=" not in token:
            index += 1  # its value


def _short_with_value(token: str, options: dict[str, bool]) -> bool:
    """-rA, -n4: a short option glued to its value."""
    return len(token) > 2 and token[1] != "-" and options.get(token[:2], False)


def check_command(word: str) -> None:
    """The first word is not an option: a command we know is handled by the caller; anything else is an error."""
    if os.sep in word or word.startswith(".") or os.path.exists(word):
        raise UsageError(
            f"{word!r}: {PROG} runs its own checks and takes no paths (to check a project: --project PATH)"
        )
    raise UsageError(f"unknown command {word!r}{closest(word, COMMANDS)} (commands: {', '.join(COMMANDS)})")


# -- --list, --version ---------------------------------------------------------------------------
def selected(keyword: str | None) -> list[catalogue.CheckInfo]:
    """The checks `-k EXPR` selects, matched as pytest matches: a name is any substring of the check's id, family,
    module or function name (case-insensitive), combined with and/or/not."""
    if not keyword:
        return list(catalogue.CATALOGUE)
    from _pytest.mark.expression import Expression

    try:
        expression = Expression.compile(keyword)
    except Exception as exc:  # noqa: BLE001 - pytest's ParseError: a usage error
        raise UsageError(f"-k {keyword!r}: {exc}") from exc
    names = _check_names()
    return [
        info
        for info in catalogue.CATALOGUE
        if expression.evaluate(lambda word, *_, info=info: any(word.lower() in n for n in names[info.id]))
    ]


def _check_names() -> dict[str, list[str]]:
    import importlib
    import pkgutil

    import claude_preflight.checks
    from claude_preflight.checking import REGISTRY

    for module in pkgutil.iter_modules(claude_preflight.checks.__path__):
        importlib.import_module(f"claude_preflight.checks.{module.name}")
    names = {}
    for info in catalogue.CATALOGUE:
        spec = REGISTRY.get(info.id)
        function = spec.function if spec else None
        module = function.__module__.rsplit(".", 1)[-1] if function else ""
        names[info.id] = [
            n.lower() for n in (info.id, info.family, module, f"{module}.py", getattr(function, "__name__", "")) if n
        ]
    return names


def list_checks(keyword: str | None = None) -> str:
    infos = selected(keyword)
    if not infos:
        return f"no check matches -k {keyword!r}"
    width = max(len(info.id) for info in infos)
    return "\n".join(f"{info.id:<{width}}  {info.title}\n{'':<{width}}  cause: {info.cause}" for info in infos)


def version_text(home: str | None = None) -> str:
    import pytest

    from claude_preflight.env import Env
    from claude_preflight.probes.install import running

    env = Env(home=Path(home or os.environ.get("HOME") or Path.home()).expanduser(), project=Path.cwd())
    try:
        claude = running(env, 5.0)
    except Exception as exc:  # noqa: BLE001 - a version line must never crash
        claude, problem = None, str(exc)
    else:
        problem = "not found on PATH"
    seen = f"{claude.version or 'version unknown'} ({claude.method}, {claude.path})" if claude else problem
    return f"{PROG} {__version__}\npytest {pytest.__version__}\nClaude Code {seen}"


# -- the run -------------------------------------------------------------------------------------
def from_clone() -> Path | None:
    """The clone this package runs from (an editable install), or None when installed."""
    root = Path(__file__).resolve().parent.parent.parent
    pyproject = root / "pyproject.toml"
    try:
        if (root / "checks").is_dir() and 'name = "claude-preflight"' in pyproject.read_text(encoding="utf-8"):
            return root
    except OSError:
        return None
    return None


def default_reports_dir(environ=os.environ) -> Path:
    """From a clone its reports/ (as `pytest checks` does); installed, the user cache: a project is never written."""
    clone = from_clone()
    if clone is not None:
        return clone / "reports"
    cache = environ.get("XDG_CACHE_HOME")
    base = Path(cache) if cache and os.path.isabs(cache) else Path.home() / ".cache"
    return base / "claude-preflight" / "reports"


def pytest_args(args: list[str], reports_dir: Path | None = None) -> list[str]:
    import claude_preflight
    import claude_preflight.checks

    package = Path(claude_preflight.__file__).parent
    checks = Path(claude_preflight.checks.__file__).parent
    return [
        str(checks),
        "-c", str(package / "pytest.ini"),
        "--rootdir", str(checks),  # node ids read test_config.py::..., installed or editable
        "--noconftest",
        "--assert=plain",  # checks return Results and never assert: rewriting would only cost start-up time
        "-p", "no:cacheprovider",  # would write .pytest_cache into site-packages
        "-p", "pytest_metadata.plugin",
        "-p", "pytest_html.plugin",
        "-p", "claude_preflight.plugin",
        "-o", f"reports_dir={reports_dir or default_reports_dir()}",
        *args,
    ]  # fmt: skip


def run_pytest(args: list[str]) -> int:
    import _pytest.config
    import pytest

    # Only our plugins: a user's other installed pytest plugins must not change the run. Restored afterwards: an
    # in-process caller (the self-tests) runs pytest again.
    previous = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    full = pytest_args(args)
    inner = getattr(_pytest.config, "_main", None)
    try:
        if inner is not None:
            try:
                return int(inner(args=full, plugins=None, prog=PROG))  # usage lines name us, not pytest.main()
            except TypeError:
                pass
        return int(pytest.main(full))
    finally:
        if previous is None:
            os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = previous


def dispatch(args: list[str]) -> int:
    if args and not args[0].startswith("-"):
        command, rest = args[0], args[1:]
        if command == "help":
            print(parser().format_help())
            return 0
        if command == "diagnose":
            from claude_preflight import diagnose

            return diagnose.main(rest)
        if command == "merge":
            from claude_preflight import merge

            return merge.main(rest)
        if command in ("hook", "install-hook"):
            from claude_preflight import hook

            return hook.main(rest) if command == "hook" else hook.install_main(rest)
        check_command(command)
    known = validate(args)
    if known.help:
        print(parser().format_help())
        return 0
    if known.version:
        print(version_text(known.home))
        return 0
    if known.help_pytest:
        return run_pytest(["--help"])
    if known.list:
        print(list_checks(known.keyword))
        return 0
    code = run_pytest(args)
    return USAGE_ERROR if code == PYTEST_USAGE_ERROR else code  # one code for every usage error of this command


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return dispatch(args)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:
        # `claude-preflight --help | head`: the reader left. Point stdout at /dev/null so the interpreter's final
        # flush does not raise again, and end as a command killed by SIGPIPE would (128 + 13).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
