"""Writers first: a writer waiting for the store's lock says so, and readers step aside.

DuckDB gives a file to one writer or to many readers, with no queue: readers that keep opening
the store (the explorer loading views, a shell loop of `lottery sql`) can keep a writer out for
good. A waiting writer leaves `.NAME.PID.writer-waiting` beside the store; readers about to open
it wait (briefly) until no live writer is waiting, and the explorer closes an idle-pending
connection at once. A marker no process holds locked (its writer was killed; its PID may since
name an unrelated live process) is removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from lottery_tui.processes import pid_alive

_POLL_SECONDS = 0.02


_SUFFIX = ".writer-waiting"


@contextlib.contextmanager
def announce_writer(path: Path) -> Iterator[None]:
    """Mark this process as waiting to write `path` for the length of the block. The marker is
    held under an exclusive `flock`: a marker nobody holds is stale even when its PID has been
    reused by an unrelated live process."""
    marker = path.with_name(f".{path.name}.{os.getpid()}{_SUFFIX}")
    try:
        handle = open(marker, "w")  # noqa: SIM115 - held open for the whole block
    except OSError:  # a read-only directory: nobody can write the store anyway
        yield
        return
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            marker.unlink()
        handle.close()


def writer_waiting(path: Path) -> bool:
    """Whether a live process is waiting to write `path` (stale markers are removed)."""
    live = False
    for marker, pid in pid_files(path, _SUFFIX):
        if pid == os.getpid():
            continue
        if pid_alive(pid) and _held(marker):
            live = True
        else:
            with contextlib.suppress(OSError):
                marker.unlink()
    return live


def _held(marker: Path) -> bool:
    """Whether some process holds `marker`'s lock (a waiting writer does, as long as it lives)."""
    try:
        with open(marker, "rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:  # gone meanwhile, or unreadable: not a waiting writer's
        return False
    return False


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
