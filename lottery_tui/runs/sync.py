"""The store's side of runs: the `probe_runs` registry and ingesting finished runs exactly once.

Jobs never write the store; whoever follows them (`lottery runs`, the TUI) calls `sync_store`. It
reads the registry read-only first and takes the write lock only when something changed, one short
transaction for the registry and one per finished run (ingest + mark), so a failing ingest never
rolls back the others. A run's files are all read before its transaction opens, so the lock is
never held while a file is read. The probe engine's ingest records each shard's sha256, so a shard
written by any node is ingested once even if two followers race.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from lottery_tui.errors import InputError
from lottery_tui.runs import rundir
from lottery_tui.runs.status import RunStatus


@dataclass(frozen=True)
class StoredRun:
    """A `probe_runs` row."""

    run_id: str
    model: str
    dataset: str | None
    state: str
    run_dir: str | None
    ingested: bool
    executor: str | None = None


@dataclass
class SyncReport:
    registered: list[str] = field(default_factory=list)
    ingested: list[str] = field(default_factory=list)
    ingest_errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.registered or self.ingested)


def read_registry(db: str | os.PathLike[str] | None) -> dict[str, StoredRun]:
    """Every `probe_runs` row, read-only (cheap, and possible while a TUI reads the store)."""
    from lottery_tui.store.connection import connect
    from lottery_tui.store.probe_runs import read_registry as stored_runs

    con = connect(db, read_only=True)
    try:
        rows = stored_runs(con)
    finally:
        con.close()
    return {row[0]: StoredRun(*row) for row in rows}


def needs_sync(run: RunStatus, stored: StoredRun | None) -> bool:
    if stored is None or stored.state != run.state:
        return True
    return run.state == "done" and not stored.ingested


def sync_store(
    db: str | os.PathLike[str] | None,
    runs: list[RunStatus],
    known: dict[str, StoredRun] | None = None,
) -> SyncReport:
    """Bring `probe_runs` up to date with `runs` and ingest the finished, not yet ingested ones."""
    from lottery_tui.store.connection import write_transaction
    from lottery_tui.store.probe_runs import mark_ingested

    known = read_registry(db) if known is None else known
    report = SyncReport()
    stale = [run for run in runs if needs_sync(run, known.get(run.run_id))]
    if not stale:
        return report
    with write_transaction(db) as con:
        for run in stale:
            _upsert(con, run)
            report.registered.append(run.run_id)
    for run in stale:
        stored = known.get(run.run_id)
        if run.state != "done" or (stored is not None and stored.ingested):
            continue
        from lottery_tui.probe.ingest import ingest_run, read_run_dir

        try:
            files = read_run_dir(run.run_dir)  # every shard read before the lock is taken
            if files is None:
                raise InputError("the run is done but has no readable result.json", run.run_dir)
            with write_transaction(db) as con:
                outcome = ingest_run(con, files)
                mark_ingested(con, run.run_id)
        except Exception as exc:  # one bad run must not stop the others; it is reported
            report.ingest_errors.append((run.run_id, f"{type(exc).__name__}: {exc}"))
        else:
            if outcome.ingested:  # a concurrent follower may have ingested it first
                report.ingested.append(run.run_id)
    return report


def _upsert(con, run: RunStatus) -> None:
    from lottery_tui.store.probe_runs import upsert_run

    finished = None
    if run.state in ("done", "failed", "cancelled"):
        finished = dt.datetime.fromtimestamp(_finished_time(run.run_dir), dt.UTC).replace(
            tzinfo=None
        )
    spec = rundir.read_json(run.run_dir / rundir.SPEC)
    upsert_run(
        con,
        [
            run.run_id,
            run.model,
            run.framework,
            run.dataset,
            run.head,
            run.executor,
            run.state,
            str(run.run_dir),
            None if spec is None else json.dumps(spec),
            finished,
        ],
    )


def _finished_time(run_dir: Path) -> float:
    for name in (rundir.RESULT, rundir.ERROR, rundir.EXIT, rundir.CANCELLED):
        try:
            return (run_dir / name).stat().st_mtime
        except OSError:
            continue
    return dt.datetime.now(dt.UTC).timestamp()
