"""Chunk writes (feature cache, Parquet shards) on one background thread.

Writing a finished chunk takes the main thread long enough for the device to run dry: a device
copy of its features, a `torch.save`, the head, three Parquet shards. On this thread the device
keeps computing the next chunk meanwhile. Writes run one at a time, in submission order, so a
killed run still leaves complete shards for a prefix of its chunks; at most `depth` chunks wait,
which bounds the memory they hold. An error in a write is raised in the main thread at the next
submission or at the end, and nothing after it is written.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType


class BackgroundWriter:
    def __init__(self, depth: int = 2) -> None:
        self.depth = depth
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="chunk-writer")
        self._pending: deque[Future[None]] = deque()
        self._failed = threading.Event()

    def __enter__(self) -> BackgroundWriter:
        return self

    def submit(self, write: Callable[[], None]) -> None:
        """Queue a write; first wait while `depth` are queued, raising any failed write's error."""
        while self._pending and (self._pending[0].done() or len(self._pending) >= self.depth):
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._run, write))

    def _run(self, write: Callable[[], None]) -> None:
        if self._failed.is_set():
            return  # an earlier write failed: the run stops there
        try:
            write()
        except BaseException:
            self._failed.set()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Finish every queued write (a failure in the main thread keeps what was computed);
        raise the first failed write's error unless the main thread is already failing."""
        try:
            while self._pending:
                future = self._pending.popleft()
                if exc is None:
                    future.result()
                else:
                    future.exception()
        finally:
            for future in self._pending:
                future.cancel()
            self._pool.shutdown(wait=True)
