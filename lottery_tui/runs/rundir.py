"""The files of a run directory, and the few the launcher adds beside the probe job's own.

The job writes `spec.json` (read), `events.jsonl`, `shards/`, `result.json`, `error.txt`
(docs/architecture.md). The launcher adds:

- `launch.json`: executor, host, when, and the executor's handle (lane PID or Slurm job id);
- `job.log`: the job's stdout and stderr;
- `job.pid`: `host pid` of the running job process (its own process group), for cancel;
- `job.exit`: the job's exit status, written by whoever waited for it;
- `cancelled`: a marker: queued jobs with it never start, running ones were signalled;
- `requeued`: one line per Slurm preemption or time-out after which the job was requeued;
- `heartbeat`: rewritten every `HEARTBEAT_S` while the job runs (by the process waiting for it,
  on the job's node), so a reader on another host tells a job on a dead node (silent for
  `LOST_AFTER_S`) from a running one without asking the scheduler.

Every write is atomic (temporary name, then `os.replace`) so a reader on another node never sees
half a file.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lottery_tui.probe.contract import CANCELLED_FILE

SPEC = "spec.json"
EVENTS = "events.jsonl"
RESULT = "result.json"
ERROR = "error.txt"
LAUNCH = "launch.json"
LOG = "job.log"
PID = "job.pid"
EXIT = "job.exit"
CANCELLED = CANCELLED_FILE
CLAIM = "claim"
REQUEUED = "requeued"
HEARTBEAT = "heartbeat"

HEARTBEAT_S = 30.0  # how often a running job's heartbeat is rewritten
# Silent this long on another host: lost (a dead node). Many beats, so a shared filesystem's
# cached file times or a busy node never make a live job look lost.
LOST_AFTER_S = 20 * HEARTBEAT_S


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so readers see the old file or the new one, never a mix."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in `path`, or None when it is missing or not (yet) valid."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def hostname() -> str:
    return socket.gethostname()


def record_pid(run_dir: Path, pid: int) -> None:
    write_atomic(run_dir / PID, f"{hostname()} {pid}\n")


def read_pid(run_dir: Path) -> tuple[str, int] | None:
    try:
        host, pid = (run_dir / PID).read_text().split()
        return host, int(pid)
    except (OSError, ValueError):
        return None


def record_exit(run_dir: Path, returncode: int, reason: str | None = None) -> None:
    """The job's exit status; `reason` when it was learnt from elsewhere (the scheduler)."""
    record = {"returncode": returncode, "t": time.time(), "host": hostname()}
    if reason is not None:
        record["reason"] = reason
    write_json(run_dir / EXIT, record)


def read_exit(run_dir: Path) -> int | None:
    data = read_json(run_dir / EXIT)
    return int(data["returncode"]) if data and "returncode" in data else None


def claim(run_dir: Path) -> bool:
    """Take a queued run for this process; exactly one caller wins (O_EXCL on a shared folder)."""
    try:
        fd = os.open(run_dir / CLAIM, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        f.write(f"{hostname()} {os.getpid()} {time.time()}\n")
    return True


def reset_for_retry(run_dir: Path) -> None:
    """Forget a previous attempt's outcome so the run can start again (shards and caches stay)."""
    for name in (CLAIM, EXIT, PID, ERROR, CANCELLED, HEARTBEAT):
        (run_dir / name).unlink(missing_ok=True)


class Heartbeat:
    """Rewrites `heartbeat` in each run directory every `every` seconds (a daemon thread) from
    entering to leaving; the first beat is written on entering, before the job's PID."""

    def __init__(self, run_dirs: Sequence[Path], every: float = HEARTBEAT_S) -> None:
        self.run_dirs = list(run_dirs)
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat_until_stopped, daemon=True)

    def beat(self) -> None:
        text = f"{hostname()} {os.getpid()} {time.time()}\n"
        for run_dir in self.run_dirs:
            try:
                write_atomic(run_dir / HEARTBEAT, text)
            except OSError:  # a full or flaky filesystem: the next beat tries again
                continue

    def _beat_until_stopped(self) -> None:
        while not self._stop.wait(self.every):
            self.beat()

    def __enter__(self) -> Heartbeat:
        self.beat()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def heartbeat_age(run_dir: Path) -> float | None:
    """Seconds since the job's last heartbeat (None: it never wrote one, e.g. an older run)."""
    try:
        return time.time() - (run_dir / HEARTBEAT).stat().st_mtime
    except OSError:
        return None


def tail(path: Path, lines: int = 20) -> list[str]:
    """The last `lines` lines of a text file (empty when it does not exist)."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024 * max(1, lines // 50 + 1)))
            data = f.read()
    except OSError:
        return []
    text = data.decode("utf-8", errors="replace").splitlines()
    return text[-lines:] if lines > 0 else []
