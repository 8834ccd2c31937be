"""Refuse a console query that names a file whose open would block (a FIFO, a device, a socket).

DuckDB opens the files of `read_text`/`read_csv`/... itself, and an open of a FIFO nobody writes
blocks inside the operating system, where DuckDB's interrupt cannot reach it: the explorer's
cancel would do nothing and its worker would wait for good. The query's string literals are
checked (globs expanded) with a `stat`, which never opens anything, before the query runs. A path
the query computes (`'fi' || 'fo'`) escapes that check; for it, `release_blocked_fifo_opens` ends
such an open on cancel by opening the FIFO's other end for a moment (the reader then sees end of
file and DuckDB's interrupt lands).
"""

from __future__ import annotations

import contextlib
import glob
import os
import platform
import re
import stat

from lottery_tui.errors import LotteryError
from lottery_tui.store.input_files import non_regular_kind

_LITERAL = re.compile(r"'((?:[^']|'')*)'")
_GLOB = re.compile(r"[*?\[]")
_HARMLESS = ("a directory", "a symbolic link loop")  # DuckDB fails on these at once, never blocks
_OPEN_PATH_ARG = {"x86_64": {2: 0, 257: 1}, "aarch64": {56: 1}}
"""Per machine: the open/openat syscall numbers, and which argument is the path."""
_MAX_PATH = 4096


class BlockingFileError(LotteryError):
    """A query names a file that would block the reader."""


def check_query_files(sql: str) -> None:
    """Raise `BlockingFileError` naming the first literal in `sql` that is (or globs to) a file
    whose open could block."""
    for match in _LITERAL.finditer(sql):
        literal = match.group(1).replace("''", "'")
        for path in _candidates(literal):
            kind = non_regular_kind(path)
            if kind is not None and kind not in _HARMLESS:
                raise BlockingFileError(
                    f"query refused: {path} is {kind}, not a regular file: reading it would "
                    "block (the console reads only regular files)"
                )


def _candidates(literal: str) -> list[str]:
    """The local paths `literal` may name as DuckDB reads it (URLs and non-paths give none)."""
    if not literal or "://" in literal or "\0" in literal:
        return []
    path = os.path.expanduser(literal)
    if _GLOB.search(path):
        try:
            return glob.glob(path, recursive=True)
        except (OSError, ValueError):
            return []
    return [path]


def release_blocked_fifo_opens() -> list[str]:
    """End every open of a FIFO that a thread of this process is blocked in (Linux), by opening
    the FIFO's write end without blocking and closing it; the FIFOs released."""
    by_number = _OPEN_PATH_ARG.get(platform.machine(), {})
    released = []
    for task in glob.glob("/proc/self/task/*/syscall"):
        try:
            with open(task) as handle:
                fields = handle.read().split()
            arg = by_number.get(int(fields[0])) if fields and fields[0].isdigit() else None
            if arg is None:
                continue
            with open("/proc/self/mem", "rb") as memory:
                memory.seek(int(fields[1 + arg], 16))
                path = memory.read(_MAX_PATH).split(b"\0", 1)[0]
            if not stat.S_ISFIFO(os.stat(path).st_mode):
                continue
            with contextlib.suppress(OSError):  # ENXIO: its reader already went
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
                released.append(os.fsdecode(path))
        except (OSError, ValueError, IndexError):  # the thread moved on meanwhile
            continue
    return released
