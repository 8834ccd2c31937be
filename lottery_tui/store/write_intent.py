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


_SUFFIX = ".writer-waiting"


@contextlib.contextmanager
def announce_writer(path: Path) -> Iterator[None]:
    """Mark this process as waiting to write `path` for the length of the block."""
    marker = path.with_name(f".{path.name}.{os.getpid()}{_SUFFIX}")
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
    live = False
    for marker, pid in pid_files(path, _SUFFIX):
        if pid == os.getpid():
            continue
        if pid_alive(pid):
            live = True
        else:
            with contextlib.suppress(OSError):
                marker.unlink()
    return live


def pid_files(path: Path, suffix: str) -> list[tuple[Path, int]]:
    """Files `.NAME.PID<suffix>` beside `path`, with their PID (the store's per-process marks:
    builds in progress, waiting writers)."""
    out = []
    for marker in path.parent.glob(f".{path.name}.*{suffix}"):
        pid = marker.name[len(path.name) + 2 : -len(suffix)]
        if pid.isdigit():
            out.append((marker, int(pid)))
    return out


def wait_for_writers(path: Path, seconds: float) -> None:
    """Return once no writer is waiting for `path`, or after `seconds` (then open anyway)."""
    deadline = time.monotonic() + seconds
    while writer_waiting(path) and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
