"""The explorer's one read-only store connection, shared by worker threads.

DuckDB connections are not safe to use from two threads at once, so every worker takes its own
cursor. A cursor can be registered under a tag ("sql") so the UI thread can interrupt the query
it runs (`DuckDBPyConnection.interrupt`), which is how a long SQL query is cancelled.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import duckdb

RELEASE_WAIT_SECONDS = 5.0
CANCEL_RETRY_SECONDS = 0.05
CANCEL_WAIT_SECONDS = 2.0


class ExplorerDatabase:
    """Opens the store read-only on first use (in a worker), so the first paint never waits."""

    def __init__(self, db: str | None) -> None:
        self.db = db
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Condition()
        self._tagged: dict[str, duckdb.DuckDBPyConnection] = {}
        self._open: set[duckdb.DuckDBPyConnection] = set()
        self._cancelled: set[str] = set()
        self._released = False
        self._closed = False

    def _new_cursor(self, tag: str | None) -> duckdb.DuckDBPyConnection:
        from lottery_tui.store.connection import connect

        with self._lock:
            self._lock.wait_for(lambda: not self._released)
            if self._closed:
                raise RuntimeError("the explorer's store connection is closed")
            if tag is not None and tag in self._cancelled:
                self._cancelled.discard(tag)
                raise duckdb.InterruptException("cancelled before it started")
            if self._con is None:
                self._con = connect(self.db, read_only=True)
            cur = self._con.cursor()
            self._open.add(cur)
            if tag is not None:
                self._tagged[tag] = cur
            return cur

    @contextlib.contextmanager
    def cursor(self, tag: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for the calling thread; `tag` lets `interrupt(tag)` cancel its query.

        The first call opens the store (building it from the shipped data if it is missing).
        """
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
                self._lock.notify_all()

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
        """Close the store for the length of the block, so another process can write to it.

        DuckDB allows one writer or many readers: ingesting finished probe runs (the Runs view)
        needs the explorer's read-only handle gone. Running queries get `wait_seconds` to finish,
        then are interrupted; new ones wait until the block ends and then reopen the store.
        Call it from a worker thread, never from the UI thread.
        """
        with self._lock:
            self._released = True
            if not self._lock.wait_for(lambda: not self._open, timeout=wait_seconds):
                self._interrupt_all()
                self._lock.wait_for(lambda: not self._open, timeout=wait_seconds)
            con, self._con = self._con, None
        if con is not None:
            con.close()
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
        """Interrupt every running query and close the store, so worker threads end promptly."""
        with self._lock:
            self._closed = True
            self._released = False
            self._lock.notify_all()
            self._interrupt_all()
            con, self._con = self._con, None
        if con is not None:
            with contextlib.suppress(duckdb.Error):
                con.interrupt()
                con.close()
