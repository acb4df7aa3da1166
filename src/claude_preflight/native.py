"""A byte search through the C library, where the C library's is the fast one.

bytes.find is CPython's two-way search, 4-7 GB/s on transcripts; glibc's memmem since 2.29 (a Horspool variant
over pairs of bytes) is 2-3x that on the same needles, and a scan of a whole history does three searches over
every byte. Elsewhere (macOS, musl, Windows, an older glibc) bytearray.find is used as it is.
Env-level code: probes reach this through Env.finder.
"""

from __future__ import annotations

import os
from collections.abc import Callable

Finder = Callable[[bytes, int, int], int]
FAST_GLIBC = (2, 29)
_memmem: object = None  # the C function once looked up, False where it is not used


def finder(buffer: bytearray) -> Finder:
    """A function that answers as buffer.find(needle, start, end) does, for 0 <= start <= end <= len(buffer)
    (other bounds are clamped to the buffer) and a non-empty needle. The buffer must not be resized while
    the function is used (it holds the buffer's address)."""
    memmem = _glibc_memmem()
    if not memmem or not buffer:
        return buffer.find
    import ctypes

    size = len(buffer)
    base = ctypes.addressof((ctypes.c_char * size).from_buffer(buffer))  # the export keeps the buffer its size

    def find(needle: bytes, start: int, end: int) -> int:
        start, end = max(0, start), min(end, size)
        if end - start < len(needle) or not needle:
            return buffer.find(needle, start, end)
        at = memmem(base + start, end - start, needle, len(needle))
        return at - base if at else -1

    return find


def _glibc_memmem():
    global _memmem
    if _memmem is None:
        _memmem = _look_up() or False
    return _memmem


def _look_up():
    if glibc_version() < FAST_GLIBC:
        return None
    try:
        import ctypes

        memmem = ctypes.CDLL(None).memmem
    except (OSError, AttributeError, ImportError):
        return None
    memmem.restype = ctypes.c_void_p
    memmem.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t)
    return memmem


def glibc_version() -> tuple[int, ...]:
    """This process's glibc version, () when it is linked against another C library."""
    try:
        name, version = (os.confstr("CS_GNU_LIBC_VERSION") or "").split()
        return tuple(int(part) for part in version.split(".")[:2]) if name == "glibc" else ()
    except (ValueError, OSError, AttributeError):
        return ()
