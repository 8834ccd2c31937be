"""Progress events of a probe job: one JSON object a line in `events.jsonl`.

Other processes (the runs follower, the TUI) tail the file, so each event is one `write` of one
whole line with O_APPEND; the same record also goes to an in-process callback (the progress bar).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lottery_tui.probe.files import disk_full_is_clear

EventCallback = Callable[[dict[str, Any]], None]
_PROGRESS_INTERVAL_S = 0.5


class EventLog:
    """Appends progress events to `events.jsonl` (one line each) and forwards them."""

    def __init__(self, path: Path, dataset: str, on_event: EventCallback | None) -> None:
        self.path = path
        self.dataset = dataset
        self.on_event = on_event
        self._last = 0.0

    def emit(
        self,
        event: str,
        done: int,
        total: int,
        *,
        rate: float | None = None,
        message: str = "",
        force: bool = True,
    ) -> None:
        now = time.time()
        if not force and now - self._last < _PROGRESS_INTERVAL_S:
            return
        self._last = now
        eta = (total - done) / rate if rate else None
        record = {
            "t": now,
            "event": event,
            "dataset": self.dataset,
            "done": done,
            "total": total,
            "images_per_s": round(rate, 2) if rate else None,
            "eta_s": round(eta, 1) if eta is not None else None,
            "message": message,
        }
        line = (json.dumps(record) + "\n").encode()
        with disk_full_is_clear(self.path):
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        if self.on_event is not None:
            self.on_event(record)
