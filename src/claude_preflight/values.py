"""Reading numbers that come from users' files and environment, where anything may stand.

Neutral ground: probes and rules both use these, so an odd value (``²``, 400 digits, 10^400) is a fact to
report, never an exception in a check.
"""

from __future__ import annotations

import re
import time

_WHOLE = re.compile(r"[0-9]{1,15}")  # ASCII digits only: str.isdigit() also accepts '²', which int() refuses

# Milliseconds since 1970 that a clock can show (up to the year 33658); larger values are damage.
MAX_EPOCH_MS = 10**15


def whole_number(text: str | None) -> int | None:
    """A non-negative decimal integer of at most 15 digits, else None (the caller says what it means)."""
    if text is None:
        return None
    text = text.strip()
    return int(text) if _WHOLE.fullmatch(text) else None


def epoch_ms(value: object) -> int | None:
    """A JSON timestamp in milliseconds, or None when it is not a plausible one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if 0 <= value < MAX_EPOCH_MS else None


def local_time(ms: int | None) -> str:
    """'2026-12-02 06:30' for a timestamp in ms; '?' when there is none or it is out of any clock's range."""
    if ms is None:
        return "?"
    try:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(ms / 1000))
    except (OverflowError, OSError, ValueError):
        return "?"
