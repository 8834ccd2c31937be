"""Writers first: a writer waiting for the store's lock says so, and readers step aside.

DuckDB gives a file to one writer or to many readers, with no queue: readers that keep opening
the store (the explorer loading views, a shell loop of `lottery sql`) can keep a writer out for
good. A waiting writer leaves `.NAME.PID.writer-waiting` beside the store; readers about to open
it wait (briefly) until no live writer is waiting, and the explorer closes an idle-pending
connection at once. A file left by a killed writer names a dead PID and is removed.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

_POLL_SECONDS = 0.02


def _pattern(path: Path) -> str:
    return f".{path.name}.*.writer-waiting"


@contextlib.contextmanager
def announce_writer(path: Path) -> Iterator[None]:
    """Mark this process as waiting to write `path` for the length of the block."""
    marker = path.with_name(f".{path.name}.{os.getpid()}.writer-waiting")
    try:
        marker.touch()
    except OSError:  # a read-only directory: nobody can write the store anyway
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            marker.unlink()


def writer_waiting(path: Path) -> bool:
    """Whether a live process is waiting to write `path` (markers of dead ones are removed)."""
    for marker in path.parent.glob(_pattern(path)):
        pid = marker.name[len(path.name) + 2 : -len(".writer-waiting")]
        if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
            return True
        if pid.isdigit() and int(pid) != os.getpid():
            with contextlib.suppress(OSError):
                marker.unlink()
    return False


def wait_for_writers(path: Path, seconds: float) -> None:
    """Return once no writer is waiting for `path`, or after `seconds` (then open anyway)."""
    deadline = time.monotonic() + seconds
    while writer_waiting(path) and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
