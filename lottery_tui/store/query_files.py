"""Refuse a console query that names a file whose open would block (a FIFO, a device, a socket).

DuckDB opens the files of `read_text`/`read_csv`/... itself, and an open of a FIFO nobody writes
blocks inside the operating system, where DuckDB's interrupt cannot reach it: the explorer's
cancel would do nothing and its worker would wait for good. The query's string literals are
checked (globs expanded) with a `stat`, which never opens anything, before the query runs.
"""

from __future__ import annotations

import glob
import os
import re

from lottery_tui.errors import LotteryError
from lottery_tui.store.input_files import non_regular_kind

_LITERAL = re.compile(r"'((?:[^']|'')*)'")
_GLOB = re.compile(r"[*?\[]")
_HARMLESS = ("a directory", "a symbolic link loop")  # DuckDB fails on these at once, never blocks


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
