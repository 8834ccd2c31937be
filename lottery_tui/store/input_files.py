"""Refuse what is not a regular file before anything opens it or takes a lock.

Opening a FIFO blocks until something writes to it, a character device never ends, and a
directory cannot be read: each would hang or fail late, possibly while holding the store's write
lock. A `stat` tells them apart without opening anything.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from lottery_tui.errors import InputError

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def non_regular_kind(path: str | os.PathLike[str]) -> str | None:
    """What `path` is if it exists and is not a regular file (symlinks followed), else None."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # would fail later as a bare RuntimeError or OSError
            return "a symbolic link loop"
        return None
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def non_utf8_name(path: str | os.PathLike[str]) -> str | None:
    """`path` shown with its undecodable bytes as `\\xNN`, where its name is not UTF-8 (DuckDB,
    the store's text columns and the terminal take UTF-8 only); None where it is."""
    try:
        os.fspath(path).encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "backslashreplace")
    return None


def require_utf8_name(path: str | os.PathLike[str]) -> None:
    """An input's name is recorded in the store (`lottery imports` lists it): it must be text."""
    shown = non_utf8_name(path)
    if shown is not None:
        raise InputError("the file name is not valid UTF-8: rename the file", shown)


def require_regular_files(
    paths: Iterable[str | os.PathLike[str] | None], *, must_exist: bool = True
) -> None:
    """Raise `InputError` naming the first path that is not a regular file, or (`must_exist`)
    is missing; None entries (options not given) are skipped."""
    for path in paths:
        if path is None:
            continue
        require_utf8_name(path)
        kind = non_regular_kind(path)
        if kind is not None:
            raise InputError(f"is {kind}, not a regular file", Path(path))
        if must_exist and not os.path.exists(path):
            raise InputError("no such file", Path(path))
