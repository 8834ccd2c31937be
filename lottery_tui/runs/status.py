"""The state of a run, read from its directory alone (works from any node of a shared filesystem).

queued -> running -> done | failed, or cancelled. `done` means `result.json` exists; `failed` means
`error.txt`, a non-zero exit, or a job process that vanished on this host without a result. A
running job on another host whose heartbeat is older than `rundir.LOST_AFTER_S` is `lost` (its
node died, or it lost the shared filesystem): never `running` forever; launching the plan again
restarts it, and it turns `running` again if its heartbeat comes back.
"""

from __future__ import annotations

import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from lottery_tui.errors import LotteryError
from lottery_tui.probe.result import RunResult
from lottery_tui.processes import pid_alive
from lottery_tui.runs import rundir

_HEAD_BYTES = 4096
_TAIL_BYTES = 16 * 1024


@dataclass(frozen=True)
class Progress:
    done: int | None = None
    total: int | None = None
    images_per_s: float | None = None
    eta_s: float | None = None
    started_at: float | None = None
    note: str = ""  # what the job says it is doing ("waiting for its turn in the sweep ...")


@dataclass(frozen=True)
class RunStatus:
    run_id: str
    run_dir: Path
    model: str
    dataset: str
    framework: str | None
    head: str | None
    executor: str | None
    job_id: str | None
    state: str
    progress: Progress
    message: str = ""
    top1: float | None = None
    launched_at: float | None = None

    @property
    def fraction(self) -> float | None:
        p = self.progress
        if self.state == "done":
            return 1.0
        if p.done is None or not p.total:
            return None
        return min(1.0, p.done / p.total)

    def summary(self) -> str:
        """One human line: progress while running, top-1 when done, the reason when failed."""
        p = self.progress
        if self.state == "running" and p.total:
            parts = [f"{p.done or 0}/{p.total} images"]
            if p.images_per_s:
                parts.append(f"{p.images_per_s:.0f} img/s")
            if p.eta_s is not None:
                parts.append(f"ETA {format_seconds(p.eta_s)}")
            if p.note and not p.images_per_s:  # waiting, or a phase before the test images
                parts.append(p.note)
            return ", ".join(parts)
        if self.state == "done" and self.top1 is not None:
            return f"top-1 {self.top1:.2f}%"
        return self.message


def format_seconds(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def read_events(path: Path) -> list[dict]:
    """The first event of `events.jsonl` and its latest one with a total (progress, done).

    A long run appends thousands of progress lines and the views re-read every run each second,
    so only the head and the last `_TAIL_BYTES` are read, and the tail is parsed backwards up to
    its last progress line; a half-written last line is ignored.
    """
    try:
        with path.open("rb") as f:
            head = f.readline(_HEAD_BYTES)
            f.seek(0, os.SEEK_END)
            start = max(len(head), f.tell() - _TAIL_BYTES)
            f.seek(start)
            tail = f.read()
    except OSError:
        return []
    pieces = tail.split(b"\n")
    if start > len(head):
        pieces = pieces[1:]  # the tail began inside a line
    events = [e for e in (_parse(head),) if e is not None]
    for line in reversed(pieces):
        event = _parse(line)
        if event is not None and event.get("total") is not None:
            events.append(event)
            break
    return events


def _parse(line: bytes) -> dict | None:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def progress_of(events: list[dict]) -> Progress:
    started = next((e.get("t") for e in events if e.get("event") == "start"), None)
    last = next((e for e in reversed(events) if e.get("total") is not None), None)
    if last is None:
        return Progress(started_at=started)
    return Progress(
        done=last.get("done"),
        total=last.get("total"),
        images_per_s=last.get("images_per_s"),
        eta_s=last.get("eta_s"),
        started_at=started,
        note=str(last.get("message") or "") if last.get("event") == "progress" else "",
    )


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name} without a result"
    return f"exited with code {code} without a result"


def read_status(run_dir: Path) -> RunStatus:
    """The state of one run directory, from its files and (on this host) its process."""
    run_dir = Path(run_dir)
    launch = rundir.read_json(run_dir / rundir.LAUNCH) or {}
    events = read_events(run_dir / rundir.EVENTS)
    progress = progress_of(events)
    try:
        result: RunResult | LotteryError | None = RunResult.read(run_dir)
    except LotteryError as exc:  # a malformed result.json: shown as the run's error
        result = exc
    state, message, top1 = _state(run_dir, result, events)
    if state == "queued" and _lanes_gone(launch):
        state, message = "failed", "its local lanes are gone (host restarted?); launch again"
    return RunStatus(
        run_id=run_dir.name,
        run_dir=run_dir,
        model=str(launch.get("model", "?")),
        dataset=str(launch.get("dataset", "?")),
        framework=launch.get("framework"),
        head=launch.get("head"),
        executor=launch.get("executor"),
        job_id=launch.get("job_id"),
        state=state,
        progress=progress,
        message=message,
        top1=top1,
        launched_at=launch.get("launched_at"),
    )


def _state(
    run_dir: Path, result: RunResult | LotteryError | None, events: list[dict]
) -> tuple[str, str, float | None]:
    if isinstance(result, LotteryError):
        return "failed", str(result), None
    if result is not None:
        return "done", "", result.top1
    if (run_dir / rundir.CANCELLED).exists():
        return "cancelled", "cancelled", None
    error = rundir.tail(run_dir / rundir.ERROR, 10_000)
    if error:
        return "failed", error[0], None
    exit_record = rundir.read_json(run_dir / rundir.EXIT)
    if exit_record is not None and "returncode" in exit_record:
        reason = exit_record.get("reason") or describe_exit(int(exit_record["returncode"]))
        return "failed", reason, None
    pid = rundir.read_pid(run_dir)
    requeues = len(rundir.tail(run_dir / rundir.REQUEUED, 1000))
    if pid is None and requeues:
        return "queued", f"requeued after preemption or time-out ({requeues}x)", None
    if pid is not None:
        host, number = pid
        if host == rundir.hostname():
            if not pid_alive(number):
                return "failed", f"job process {number} is gone without a result (killed?)", None
            return "running", "", None
        silent = rundir.heartbeat_age(run_dir)
        if silent is not None and silent > rundir.LOST_AFTER_S:
            return "lost", _lost_message(host, silent), None
        return "running", "", None
    if any(e.get("event") == "start" for e in events):
        return "running", "", None
    return "queued", "", None


def _lost_message(host: str, silent: float) -> str:
    return (
        f"no heartbeat from {host} for {format_seconds(silent)} (node down?); "
        "launch the plan again to restart it"
    )


def _lanes_gone(launch: dict) -> bool:
    """A queued local run whose lane processes (on this host) all ended will never start."""
    handle = launch.get("job_id")
    if launch.get("executor") != "local" or launch.get("host") != rundir.hostname():
        return False
    if not isinstance(handle, str) or not handle.startswith("lanes "):
        return False
    pids = [int(p.split("@")[0]) for p in handle.removeprefix("lanes ").split(",")]
    return not any(pid_alive(pid) for pid in pids)


def scan_runs(results_dir: Path) -> list[RunStatus]:
    """Every run directory under the results folder (those with a `launch.json`), oldest first."""
    if not results_dir.is_dir():
        return []
    runs = [
        read_status(child)
        for child in results_dir.iterdir()
        if child.is_dir() and (child / rundir.LAUNCH).exists()
    ]
    return sorted(runs, key=lambda r: (r.launched_at or 0.0, r.run_id))


def find_run(results_dir: Path, run_id: str) -> RunStatus | None:
    """The run with this id, or the only one it prefixes (ids are long); `model--dataset`
    names a run even when another dataset's id starts the same way (imagenet, imagenet-sketch)."""
    exact = results_dir / run_id
    if (exact / rundir.LAUNCH).exists():
        return read_status(exact)
    return match_run(scan_runs(results_dir), run_id)


def match_run(runs: list[RunStatus], run_id: str) -> RunStatus | None:
    """The run of `runs` with this id or the only one it prefixes (as `find_run`)."""
    matches = [r for r in runs if r.run_id == run_id] or [
        r for r in runs if r.run_id.startswith(run_id)
    ]
    if len(matches) > 1:
        matches = [r for r in matches if r.run_id.startswith(run_id.rstrip("-") + "--")]
    return matches[0] if len(matches) == 1 else None
