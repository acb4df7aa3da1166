"""Every check claude-preflight has, in one place. The README table and the tests read this."""

from __future__ import annotations

from dataclasses import dataclass

ISSUES = "https://github.com/anthropics/claude-code/issues"


@dataclass(frozen=True)
class CheckInfo:
    id: str
    family: str
    title: str
    cause: str
    docs: str
    network: bool = False


CATALOGUE: tuple[CheckInfo, ...] = (
    CheckInfo(
        "config.file",
        "config",
        "Config files parse and match Claude Code's settings schema",
        "Corrupt JSON in ~/.claude.json stops Claude Code from starting; a settings file with an error "
        "or a wrong value type is ignored as a whole",
        "https://code.claude.com/docs/en/settings",
    ),
    CheckInfo(
        "config.corrupt-backups",
        "config",
        "No leftover corrupted ~/.claude.json copies",
        "Claude Code found ~/.claude.json corrupt before and set it aside: state may have been lost",
        "https://code.claude.com/docs/en/troubleshooting",
    ),
    CheckInfo(
        "permissions.path",
        "permissions",
        "Claude Code's directories and files are owned by you and writable",
        "A non-writable ~/.claude makes `claude -p` exit 0 without writing a transcript (the session is lost); "
        "EACCES crashes after `sudo claude`",
        "https://code.claude.com/docs/en/troubleshooting",
    ),
    CheckInfo(
        "permissions.ownership",
        "permissions",
        "Nothing under the config directory belongs to another user",
        "Files left owned by root after `sudo claude` cannot be rewritten: EACCES crashes, lost sessions",
        "https://code.claude.com/docs/en/troubleshooting",
    ),
    CheckInfo(
        "disk.space",
        "disk",
        "Free space and inodes on every filesystem Claude Code writes to",
        "A full disk crashes Claude Code with ENOSPC and can leave ~/.claude.json empty",
        "https://code.claude.com/docs/en/troubleshooting",
    ),
)

_BY_ID = {info.id: info for info in CATALOGUE}


def get(check_id: str) -> CheckInfo:
    try:
        return _BY_ID[check_id]
    except KeyError:
        raise KeyError(f"check id {check_id!r} is not in the catalogue (claude_preflight/catalogue.py)") from None


def families() -> list[str]:
    """Families in catalogue order, each once."""
    return list(dict.fromkeys(info.family for info in CATALOGUE))


def markdown_table() -> str:
    """The README's check table, generated so it cannot drift from the catalogue."""
    rows = ["| id | family | what it checks | why it matters |", "|---|---|---|---|"]
    rows += [f"| `{i.id}` | {i.family} | {i.title} | {i.cause} |" for i in CATALOGUE]
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
