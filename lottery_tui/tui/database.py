"""The explorer's store access: a read-only connection while queries run, none while idle.

DuckDB lets one process write a file only while no other process has it open, and researchers
keep the explorer open while they import from another shell. So the explorer opens the store
(`sql_policy.open_console`: read-only, configuration locked) when a worker asks for a cursor, and
closes it `IDLE_CLOSE_SECONDS` after the last cursor is returned: a burst of queries (a view
loading) pays for one open (~60-80 ms), and a writer, which waits up to 3 s for the lock, always
gets in. `stamp()` tells the app when another process changed the store, so it can reload.

DuckDB connections are not safe to use from two threads at once, so every worker takes its own
cursor. A cursor can be registered under a tag ("sql") so the UI thread can interrupt the query
it runs (`DuckDBPyConnection.interrupt`), which is how a long SQL query is cancelled.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator

import duckdb

RELEASE_WAIT_SECONDS = 5.0
CANCEL_RETRY_SECONDS = 0.05
CANCEL_WAIT_SECONDS = 2.0
IDLE_CLOSE_SECONDS = 0.5


class ExplorerDatabase:
    """Opens the store read-only on demand, in a worker, so the first paint never waits, and
    closes it once idle for `idle_close_seconds` (0: as soon as the last cursor is returned)."""

    def __init__(self, db: str | None, *, idle_close_seconds: float = IDLE_CLOSE_SECONDS) -> None:
        self.db = db
        self.idle_close_seconds = idle_close_seconds
        self._con: duckdb.DuckDBPyConnection | None = None
        self._idle_timer: threading.Timer | None = None
        self._lock = threading.Condition()
        self._tagged: dict[str, duckdb.DuckDBPyConnection] = {}
        self._open: set[duckdb.DuckDBPyConnection] = set()
        self._cancelled: set[str] = set()
        self._released = False
        self._closed = False

    def _new_cursor(self, tag: str | None) -> duckdb.DuckDBPyConnection:
        from lottery_tui.store.sql_policy import open_console

        with self._lock:
            self._lock.wait_for(lambda: not self._released)
            if self._closed:
                raise RuntimeError("the explorer's store connection is closed")
            if tag is not None and tag in self._cancelled:
                self._cancelled.discard(tag)
                raise duckdb.InterruptException("cancelled before it started")
            if self._idle_timer is not None:
                self._idle_timer.cancel()
                self._idle_timer = None
            if self._con is None:
                self._con = open_console(self.db)
            cur = self._con.cursor()
            self._open.add(cur)
            if tag is not None:
                self._tagged[tag] = cur
            return cur

    def stamp(self) -> tuple[int, ...]:
        """Size and modification time of the store and its write-ahead log: changes when
        another process commits to the store (cheap: two `stat` calls, no connection)."""
        from lottery_tui.store.paths import resolve_db_path

        path = resolve_db_path(self.db)
        out: list[int] = []
        for candidate in (path, path.with_name(path.name + ".wal")):
            try:
                info = os.stat(candidate)
            except OSError:
                out += [0, 0]
            else:
                out += [info.st_size, info.st_mtime_ns]
        return tuple(out)

    @contextlib.contextmanager
    def cursor(self, tag: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for the calling thread; `tag` lets `interrupt(tag)` cancel its query.

        Opening the store builds it from the shipped data if it is missing."""
        cur = self._new_cursor(tag)
        try:
            yield cur
        finally:
            cur.close()
            with self._lock:
                self._open.discard(cur)
                if tag is not None and self._tagged.get(tag) is cur:
                    del self._tagged[tag]
                    self._cancelled.discard(tag)
                if not self._open:
                    self._close_when_idle()
                self._lock.notify_all()

    def _close_when_idle(self) -> None:
        """Close the store now (no delay, or a writer is waiting for it) or once it has stayed
        idle; call holding the lock."""
        from lottery_tui.store.paths import resolve_db_path
        from lottery_tui.store.write_intent import writer_waiting

        if self.idle_close_seconds <= 0 or writer_waiting(resolve_db_path(self.db)):
            self._close_connection()
            return
        timer = threading.Timer(self.idle_close_seconds, self._close_if_still_idle)
        timer.daemon = True
        self._idle_timer = timer
        timer.start()

    def _close_if_still_idle(self) -> None:
        with self._lock:
            if not self._open and self._idle_timer is not None:
                self._idle_timer = None
                self._close_connection()

    def _close_connection(self) -> None:
        con, self._con = self._con, None
        if con is not None:
            with contextlib.suppress(duckdb.Error):
                con.close()

    @property
    def holds_connection(self) -> bool:
        """Whether the store is open in this process now (False while idle)."""
        with self._lock:
            return self._con is not None

    def interrupt(self, tag: str) -> bool:
        """Interrupt the query running under `tag` once; False when nothing was running."""
        with self._lock:
            cur = self._tagged.get(tag)
        if cur is None:
            return False
        cur.interrupt()
        return True

    def cancel(self, tag: str) -> None:
        """Stop the query under `tag`, whether it is running or about to start.

        An interrupt that reaches DuckDB before it starts executing does nothing, so a helper
        thread repeats it until the tagged cursor is closed; a query whose cursor is not open
        yet is refused when it asks for one.
        """
        with self._lock:
            self._cancelled.add(tag)
        threading.Thread(target=self._keep_interrupting, args=(tag,), daemon=True).start()

    def clear_cancel(self, tag: str) -> None:
        """Forget a cancel that came too late to stop anything (call before a new query)."""
        with self._lock:
            self._cancelled.discard(tag)

    def _keep_interrupting(self, tag: str) -> None:
        """Interrupt the tagged query until its cursor closes; give up if none appears soon
        (the query had already finished when the cancel came)."""
        deadline = time.monotonic() + CANCEL_WAIT_SECONDS
        while True:
            with self._lock:
                cur = self._tagged.get(tag)
                if tag not in self._cancelled or self._closed:
                    return
                if cur is None and time.monotonic() > deadline:
                    self._cancelled.discard(tag)
                    return
            if cur is not None:
                with contextlib.suppress(duckdb.Error):
                    cur.interrupt()
            time.sleep(CANCEL_RETRY_SECONDS)

    @contextlib.contextmanager
    def released(self, wait_seconds: float = RELEASE_WAIT_SECONDS) -> Iterator[None]:
        """Keep the store closed for the length of the block, so this process can write to it.

        DuckDB allows one writer or many readers: ingesting finished probe runs (the Runs view)
        needs every read-only handle gone. Running queries get `wait_seconds` to finish, then
        are interrupted; new ones wait until the block ends. Call it from a worker thread.
        """
        with self._lock:
            self._released = True
            if not self._lock.wait_for(lambda: not self._open, timeout=wait_seconds):
                self._interrupt_all()
                self._lock.wait_for(lambda: not self._open, timeout=wait_seconds)
            self._close_connection()
        try:
            yield
        finally:
            with self._lock:
                self._released = False
                self._lock.notify_all()

    def _interrupt_all(self) -> None:
        for cur in list(self._open):
            with contextlib.suppress(duckdb.Error):
                cur.interrupt()

    def close(self) -> None:
        """Interrupt every running query, so worker threads end promptly; refuse new ones."""
        with self._lock:
            self._closed = True
            self._released = False
            self._lock.notify_all()
            self._interrupt_all()
            if self._idle_timer is not None:
                self._idle_timer.cancel()
                self._idle_timer = None
            if not self._open:
                self._close_connection()
