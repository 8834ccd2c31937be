"""Exit when the terminal goes away, even if Textual's output has jammed.

Why a thread and not a timer on the event loop: when a terminal closes (tmux kill-session,
an SSH drop) the kernel sends SIGHUP *and* SIGCONT. Textual's SIGCONT handler restarts
application mode on the dead terminal, with a fresh output thread; a write to the dead
terminal raises in that thread and ends it, its bounded queue (30 writes) fills, and the next
`driver.write` on the event loop waits forever in `Queue.put` (seen with faulthandler: the main
thread in `WriterThread.write` from `_shutdown` -> `disable_input`). With the loop blocked, an
asyncio signal handler or a `set_interval` check never runs, so 10 of 12 explorers outlived
their tmux session. This watch runs beside the loop: it asks the app to exit, and ends the
process itself if the app has not finished within `GRACE_SECONDS`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

POLL_SECONDS = 0.25
"""How often the watch checks the terminal."""

GRACE_SECONDS = 1.0
"""How long an orderly exit may take once the terminal is gone (poll + grace < 2 s)."""

LOST_TERMINAL_CODE = 129
"""Exit status after a hang-up (128 + SIGHUP), as a shell reports a hung-up job."""


def terminal_lost(fd: int) -> bool:
    """True once `fd` no longer has a controlling terminal (a hung-up tty fails the ioctl)."""
    try:
        os.tcgetpgrp(fd)
    except OSError:
        return True
    return False


def watch_terminal(ask_exit: Callable[[], None]) -> None:
    """Start the watch on stdin; `ask_exit` is called (from the watch's thread, so it must be
    thread-safe) once the terminal is gone or SIGHUP arrives."""
    hung_up = threading.Event()
    with contextlib.suppress(ValueError):  # not the main thread: no handler, the poll remains
        signal.signal(signal.SIGHUP, lambda *_: hung_up.set())
    fd = sys.__stdin__.fileno() if sys.__stdin__ is not None else -1
    threading.Thread(
        target=_watch, args=(fd, hung_up, ask_exit), daemon=True, name="terminal-watch"
    ).start()


def _watch(fd: int, hung_up: threading.Event, ask_exit: Callable[[], None]) -> None:
    while not hung_up.wait(POLL_SECONDS):
        if fd >= 0 and terminal_lost(fd):
            break
    with contextlib.suppress(RuntimeError):  # the loop already closed: the exit is under way
        ask_exit()
    time.sleep(GRACE_SECONDS)
    os._exit(LOST_TERMINAL_CODE)  # still here: the exit is stuck on the dead terminal's output
