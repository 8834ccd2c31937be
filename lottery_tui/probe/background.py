"""Chunk writes (feature cache, Parquet shards) on one background thread.

Writing a finished chunk takes the main thread long enough for the device to run dry: a device
copy of its features, a `torch.save`, the head, three Parquet shards. On this thread the device
keeps computing the next chunk meanwhile. Writes run one at a time, in submission order, so a
killed run still leaves complete shards for a prefix of its chunks; at most `depth` chunks wait,
which bounds the memory they hold.

Each write belongs to an owner (a run of the sweep). A failed write (a full disk in one run's
head, a broken shard) fails its owner alone: that owner's later writes are skipped, the others'
go on, and the error waits in `errors` for the main thread, which drops the run from the sweep.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType


class BackgroundWriter:
    def __init__(self, depth: int = 2) -> None:
        self.depth = depth
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="chunk-writer")
        self._pending: deque[Future[None]] = deque()
        self._lock = threading.Lock()
        self._errors: dict[Hashable, Exception] = {}

    def __enter__(self) -> BackgroundWriter:
        return self

    def submit(self, owner: Hashable, write: Callable[[], None]) -> None:
        """Queue `owner`'s write; first wait while `depth` writes are queued."""
        while self._pending and (self._pending[0].done() or len(self._pending) >= self.depth):
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._run, owner, write))

    def failed(self, owner: Hashable) -> Exception | None:
        """The error of `owner`'s first failed write, if one failed."""
        with self._lock:
            return self._errors.get(owner)

    @property
    def errors(self) -> dict[Hashable, Exception]:
        """Owner -> the error of its first failed write."""
        with self._lock:
            return dict(self._errors)

    def _run(self, owner: Hashable, write: Callable[[], None]) -> None:
        if self.failed(owner) is not None:
            return  # an earlier write of this owner failed: its run stops there
        try:
            write()
        except Exception as exc:
            with self._lock:
                self._errors[owner] = exc

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Finish every queued write (a failure in the main thread keeps what was computed);
        the owners' errors stay in `errors`."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            for future in self._pending:
                future.cancel()
            self._pool.shutdown(wait=True)
