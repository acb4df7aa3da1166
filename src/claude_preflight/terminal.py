"""What the terminal shows, as `flutter doctor` and `brew doctor` do: who runs, one line per family, what to fix,
the verdict last. Pure functions of the records: the plugin writes their lines."""

from __future__ import annotations

from claude_preflight.report import Record, as_text, counts, family_status, visible

MARKS = {"ok": "✓", "warn": "!", "fail": "✗", "skip": "-", "error": "?"}
ASCII_MARKS = {"ok": "+", "warn": "!", "fail": "x", "skip": "-", "error": "?"}
COLOURS = {
    "ok": {"green": True},
    "warn": {"yellow": True},
    "fail": {"red": True},
    "skip": {},
    "error": {"purple": True},
}
ORDER = ("error", "fail", "warn", "ok", "skip")
PROBLEMS = ("error", "fail", "warn")  # what "what to fix" lists, in this order


def marks_for(encoding: str | None) -> dict[str, str]:
    """✓ ! ✗ where the terminal can show them, + ! x where it cannot (a C locale, a cp1252 console)."""
    try:
        "".join(MARKS.values()).encode(encoding or "ascii")
    except (LookupError, UnicodeEncodeError):
        return ASCII_MARKS
    return MARKS


def header_lines(claude: str, home: str, project: str) -> list[str]:
    return [f"Claude Code  {visible(claude)}", f"home         {visible(home)}", f"project      {visible(project)}"]


def describe_claude(installation) -> str:
    """The Claude Code a shell would start: version, install method, path (or why none)."""
    if installation is None:
        return "not found on PATH"
    return f"{installation.version or 'version unknown'} ({installation.method}, {installation.path})"


def tally(records: list[Record]) -> str:
    total = counts(records)
    return ", ".join(f"{total[s]} {s}" for s in ORDER if total.get(s))


def family_lines(records: list[Record], marks: dict[str, str]) -> list[tuple[str, str]]:
    """(status, line) per family in catalogue order: `✗ config     1 fail, 6 ok, 2 skip`."""
    worst = family_status(records)
    width = max((len(f) for f in worst), default=0)
    return [
        (status, f"{marks[status]} {family:<{width}}  {tally([r for r in records if r.family == family])}")
        for family, status in worst.items()
    ]


def problem_blocks(records: list[Record]) -> list[tuple[str, list[str]]]:
    """(status, lines) for each fail, then each warn: the headline, then evidence and remediation indented."""
    blocks = []
    for record in sorted((r for r in records if r.status in PROBLEMS), key=lambda r: PROBLEMS.index(r.status)):
        text = as_text(record).splitlines()
        blocks.append((record.status, [text[0], *(f"    {line}" for line in text[1:])]))
    return blocks


def repair_lines(records: list[Record]) -> list[str]:
    """Under --fix: each repair done or refused, with its backup (the rules put them in the evidence)."""
    return [
        f"{record.name}: {line.strip()}"
        for record in records
        for line in record.evidence
        if "repaired: " in line or "not repaired" in line or "; backup: " in line
    ]


def result_line(record: Record, marks: dict[str, str]) -> str:
    """-v: one line per result, its summary instead of a node id."""
    return f"{marks[record.status]} {record.status.upper():<4} {record.name}: {record.summary}"


def verdict(
    records: list[Record], strict: bool, seconds: float | None = None, interrupted: bool = False
) -> tuple[str, str]:
    """(status, the last line of the run). 'all clear' only when something was actually checked (and finished)."""
    total = counts(records)
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    if interrupted:
        return "warn", f"claude-preflight: interrupted, so incomplete: {tally(records)} before it stopped{took}"
    bugs = f"; {total['error']} internal error(s): a claude-preflight bug, not your machine" if total["error"] else ""
    if total["fail"] or (strict and total["warn"]):
        status, word = "fail", "FAIL"
        if not total["fail"]:
            word = "FAIL (--strict: warn fails the run)"
    elif total["error"]:
        status, word = "error", "no failure found, but some checks could not run"
    elif total["warn"]:
        status, word = "warn", "passed with warnings"
    elif total["ok"]:
        status, word = "ok", "all clear"
    else:
        status, word = "skip", "nothing was checked"
    return status, f"claude-preflight: {word}: {tally(records)}{took}{bugs}"
