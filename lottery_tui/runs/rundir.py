"""The files of a run directory, and the few the launcher adds beside the probe job's own.

The job writes `spec.json` (read), `events.jsonl`, `shards/`, `result.json`, `error.txt`
(docs/architecture.md). The launcher adds:

- `launch.json`: executor, host, when, and the executor's handle (lane PID or Slurm job id);
- `job.log`: the job's stdout and stderr;
- `job.pid`: `host pid` of the running job process (its own process group), for cancel;
- `job.exit`: the job's exit status, written by whoever waited for it;
- `cancelled`: a marker: queued jobs with it never start, running ones were signalled;
- `requeued`: one line per Slurm preemption or time-out after which the job was requeued.

Every write is atomic (temporary name, then `os.replace`) so a reader on another node never sees
half a file.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import time
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
    for name in (CLAIM, EXIT, PID, ERROR, CANCELLED):
        (run_dir / name).unlink(missing_ok=True)


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
