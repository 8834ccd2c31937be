"""Runs: pick models x datasets from a plan, launch them, follow each job, cancel, read logs.

Runs are read from their directories in the results folder (the same files `lottery runs` reads),
so jobs launched here keep running and stay visible after the explorer closes. How a plan is
launched and when the store is synced is `lottery_tui.runs.follow`; this module draws. Finished
runs are ingested into the store; `RunsView.ResultsIngested` tells the app to refresh.

At 80 columns the table shows what changes (state, progress with ETA, detail); the run id is
long (`model--dataset--hash`), so the table shows its hash, and the line under it the full id,
images done and img/s of the run under the cursor, with the executor `l` would launch with.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, RichLog, SelectionList, Static

from lottery_tui.runs import rundir
from lottery_tui.runs.follow import SyncPolicy, launch_in_subprocess
from lottery_tui.runs.locations import resolve_results_dir
from lottery_tui.runs.plan import Plan, load_plan
from lottery_tui.runs.registry import all_runs
from lottery_tui.runs.slurm_jobs import reconcile
from lottery_tui.runs.status import RunStatus, format_seconds
from lottery_tui.runs.sync import StoredRun
from lottery_tui.tui.messages import one_line
from lottery_tui.tui.views.base import ExplorerView

REFRESH_SECONDS = 1.0
SLURM_CHECK_SECONDS = 30.0  # sacct is a call to the Slurm controller: not every refresh
LOG_LINES = 200
STATE_STYLE = {
    "queued": "dim",
    "running": "bold cyan",
    "done": "green",
    "failed": "bold red",
    "lost": "bold magenta",
    "cancelled": "yellow",
}
COLUMNS = (
    ("model", "Model"),
    ("dataset", "Dataset"),
    ("state", "State"),
    ("progress", "Progress"),  # percent done and ETA; img/s of the cursor's run on the line below
    ("detail", "Detail"),
    ("run", "Run"),  # the id's hash; the full id is on the line below the table
)
MODEL_WIDTH, DATASET_WIDTH = 20, 16  # longer names are cut in the middle (full id below)


class RunsView(ExplorerView, Vertical):
    """The Runs view; mount it anywhere (the explorer's sixth tab, or a test's host app).

    Its workers read files and the store; they hand what they found to the UI thread in
    messages, whose handlers alone change the view's state."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "launch", "Launch", id="runs.launch"),
        Binding("c", "cancel", "Cancel run", id="runs.cancel"),
        Binding("g", "toggle_log", "Log", id="runs.log"),
        Binding("x", "switch_executor", "Executor", id="runs.executor"),
        Binding("r", "refresh", "Refresh", id="runs.refresh"),
        Binding("p", "edit_plan", "Plan file", id="runs.plan"),
    ]
    DEFAULT_CSS = """
    RunsView #runs-plan { dock: top; height: auto; }
    RunsView #runs-plan-path { height: 1; border: none; padding: 0 1; background: $boost; }
    /* the picker (25 %) and the log (40 %) give way: the runs keep rows at 80x24 */
    RunsView #runs-picker { height: auto; max-height: 25%; }
    RunsView #runs-picker SelectionList { width: 1fr; height: auto; max-height: 10; }
    RunsView #runs-table { height: 1fr; }
    RunsView #runs-log { height: 12; max-height: 40%; border-top: solid $primary; }
    RunsView #runs-current { height: 1; padding: 0 1; background: $boost; }
    RunsView .status { height: 1; color: $text-muted; padding: 0 1; }
    RunsView .error { color: $error; }
    RunsView .hidden { display: none; }
    """

    class ResultsIngested(Message):
        """Finished runs were ingested into the store: other views should reload."""

        def __init__(self, run_ids: list[str]) -> None:
            super().__init__()
            self.run_ids = run_ids

    class _Scanned(Message):
        """A scan ended: the runs found (None: it failed; the next refresh tries again)."""

        def __init__(self, runs: list[RunStatus] | None) -> None:
            super().__init__()
            self.runs = runs

    class _RegistryRead(Message):
        def __init__(self, stored: dict[str, StoredRun]) -> None:
            super().__init__()
            self.stored = stored

    class _Launched(Message):
        def __init__(self, text: str, ok: bool) -> None:
            super().__init__()
            self.text = text
            self.ok = ok

    class _Synced(Message):
        """A sync ended: `error` (one line) if the store was busy, else what was ingested and
        the store's registry re-read."""

        def __init__(
            self,
            runs: list[RunStatus],
            *,
            error: str | None = None,
            ingested: list[str] | None = None,
            ingest_errors: list[tuple[str, str]] | None = None,
            stored: dict[str, StoredRun] | None = None,
        ) -> None:
            super().__init__()
            self.runs = runs
            self.error = error
            self.ingested = ingested or []
            self.ingest_errors = ingest_errors or []
            self.stored = stored

    class _RefreshNeeded(Message):
        """From a worker thread: scan again now (workers are started from the UI thread)."""

    class _Said(Message):
        def __init__(self, text: str, error: bool = False) -> None:
            super().__init__()
            self.text = text
            self.error = error

    def __init__(
        self,
        db: str | os.PathLike[str] | None = None,
        *,
        results_dir: str | os.PathLike[str] | None = None,
        plan: str | os.PathLike[str] | None = None,
        release_store: Callable[[], AbstractContextManager] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.db = None if db is None else str(db)
        self.results_dir = resolve_results_dir(results_dir, db)
        self.plan_path = plan if plan is not None else os.environ.get("LOTTERY_PLAN")
        self.plan: Plan | None = None
        self.executor = "local"
        self.runs: list[RunStatus] = []
        self._release_store = release_store
        self._sync_policy = SyncPolicy()
        self._stored: dict[str, StoredRun] = {}  # the store's registry, re-read after syncs
        self._scanning = False
        self._syncing = False
        self._slurm_checked_at = 0.0
        self._launching = False

    # ----- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # The table comes first so it takes focus when the view is shown (digits then still
        # switch views); the plan panel is docked on top.
        table = DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table
        yield Static("", id="runs-current")
        yield RichLog(id="runs-log", max_lines=2000, wrap=False, classes="hidden")
        with Vertical(id="runs-plan"):
            yield Input(
                str(self.plan_path or ""),
                placeholder="plan file (TOML): p to edit, Enter loads it",
                id="runs-plan-path",
            )
            with Horizontal(id="runs-picker"):
                yield SelectionList[str](id="runs-models")
                yield SelectionList[str](id="runs-datasets")
            yield Static("", id="runs-status", classes="status")

    def on_mount(self) -> None:
        self.query_one("#runs-models", SelectionList).border_title = "models"
        self.query_one("#runs-datasets", SelectionList).border_title = "datasets"
        self._say(f"results in {self.results_dir}; p: plan file")
        self._show_current()
        if self.plan_path:
            self._load_plan(str(self.plan_path))
        self.set_interval(REFRESH_SECONDS, self.refresh_runs)
        self._read_registry()

    @work(thread=True, exit_on_error=False, group="runs-sync")
    def _read_registry(self) -> None:
        """Runs the store knows of outside this results folder are listed too."""
        import duckdb

        from lottery_tui.errors import LotteryError
        from lottery_tui.runs.sync import read_registry

        stored: dict[str, StoredRun] = {}
        with contextlib.suppress(LotteryError, duckdb.Error, OSError):
            stored = read_registry(self.db)
        self.post_message(self._RegistryRead(stored))

    @on(_RegistryRead)
    def _on_registry_read(self, message: _RegistryRead) -> None:
        self._stored = message.stored
        self.refresh_runs()

    def activate(self) -> None:
        """Called by the app when the tab is shown: refresh now rather than in a second."""
        self.refresh_runs()

    def scope_changed(self, old: object, new: object) -> None:
        """Runs do not depend on the reference, source or tags."""

    def _say(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#runs-status", Static)
        status.update(text)
        status.set_class(error, "error")

    @on(_Said)
    def _on_said(self, message: _Said) -> None:
        self._say(message.text, error=message.error)

    # ----- plan -------------------------------------------------------------------------------

    def action_edit_plan(self) -> None:
        self.query_one("#runs-plan-path", Input).focus()

    @on(Input.Submitted, "#runs-plan-path")
    def _plan_submitted(self, event: Input.Submitted) -> None:
        self._load_plan(event.value.strip())
        self.query_one("#runs-table", DataTable).focus()

    def _load_plan(self, path: str) -> None:
        from lottery_tui.errors import LotteryError
        from lottery_tui.store.file_access import check_may_read

        try:
            check_may_read(path)  # a served explorer: its plans would read the user's files
            plan = load_plan(Path(path).expanduser())
        except LotteryError as exc:
            self._say(str(exc).splitlines()[0] + " (details: lottery probe --plan)", error=True)
            return
        self.plan = plan
        self.executor = plan.defaults.executor
        models = self.query_one("#runs-models", SelectionList)
        datasets = self.query_one("#runs-datasets", SelectionList)
        models.clear_options()
        datasets.clear_options()
        models.add_options([(m.name, m.name, True) for m in plan.models])
        datasets.add_options([(d.id, d.id, True) for d in plan.datasets])
        self._say(
            f"plan {plan.path.name}: {len(plan.models)} models x {len(plan.datasets)} datasets; "
            "l launches the selection"
        )
        self._show_current()

    def action_switch_executor(self) -> None:
        self.executor = "slurm" if self.executor == "local" else "local"
        self._show_current()  # on its own line: the next message does not hide it

    def _show_current(self) -> None:
        """The line under the table: the executor `l` uses, and the full id of the run under the
        cursor (the table shows only its hash)."""
        run = self.selected_run() if self.is_mounted else None
        text = Text.assemble(("executor ", "dim"), (self.executor, "bold"), (" (x)", "dim"))
        if run is not None:
            text.append("  run ", "dim")
            text.append(run.run_id)
            p = run.progress
            if run.state == "running" and p.total:
                text.append(f"  {p.done or 0:,}/{p.total:,}")
            if run.state == "running" and p.images_per_s:
                text.append(f"  {p.images_per_s:,.0f} img/s")
        self.query_one("#runs-current", Static).update(text)

    # ----- launch -----------------------------------------------------------------------------

    def action_launch(self) -> None:
        if self.plan is None:
            self._say("load a plan first (type its path above, Enter)", error=True)
            return
        if self._launching:
            self._say("a launch is already in progress")
            return
        models = list(self.query_one("#runs-models", SelectionList).selected)
        datasets = list(self.query_one("#runs-datasets", SelectionList).selected)
        if not models or not datasets:
            self._say("select at least one model and one dataset (space toggles)", error=True)
            return
        self._launching = True
        self._say(f"validating and launching {len(models) * len(datasets)} run(s)…")
        self._launch(self.plan.path, models, datasets, self.executor)

    @work(thread=True, exit_on_error=False, group="runs-launch")
    def _launch(self, plan: Path, models: list[str], datasets: list[str], executor: str) -> None:
        try:
            outcome = launch_in_subprocess(
                plan, models, datasets, executor, self.results_dir, self.db
            )
        except Exception as exc:  # whatever happened, the next l may launch
            self.post_message(self._Launched(f"cannot launch: {one_line(exc)}", ok=False))
            return
        self.post_message(self._Launched(outcome.message, ok=outcome.ok))

    @on(_Launched)
    def _on_launched(self, message: _Launched) -> None:
        self._launching = False
        self._say(message.text, error=not message.ok)
        self.refresh_runs()

    # ----- following --------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.refresh_runs()

    @on(_RefreshNeeded)
    def _on_refresh_needed(self) -> None:
        self.refresh_runs()

    def refresh_runs(self) -> None:
        if self._scanning:
            return
        self._scanning = True
        check_slurm = time.monotonic() - self._slurm_checked_at >= SLURM_CHECK_SECONDS
        if check_slurm:
            self._slurm_checked_at = time.monotonic()
        self._scan(dict(self._stored), check_slurm)

    @work(thread=True, exit_on_error=False, group="runs-scan")
    def _scan(self, stored: dict[str, StoredRun], check_slurm: bool) -> None:
        runs = None
        try:
            runs = all_runs(self.results_dir, stored)
            if check_slurm:
                runs = reconcile(runs)
        finally:  # a failed scan still ends, so the next refresh may scan
            self.post_message(self._Scanned(runs))

    @on(_Scanned)
    def _on_scanned(self, message: _Scanned) -> None:
        self._scanning = False
        if message.runs is None:
            return
        self.runs = message.runs
        self._fill_table()
        if self.query_one("#runs-log", RichLog).display:
            self._show_log()
        self._show_current()
        if not self._syncing and self._sync_policy.due(self.runs):
            self._syncing = True
            self._sync(self.runs)

    def _fill_table(self) -> None:
        table = self.query_one("#runs-table", DataTable)
        rows = {r.run_id: _row(r) for r in self.runs}
        if set(rows) != {str(k.value) for k in table.rows}:
            selected = self.selected_run()
            table.clear()
            for run_id, cells in rows.items():
                table.add_row(*cells, key=run_id)
            if selected is not None and selected.run_id in rows:
                table.move_cursor(row=table.get_row_index(selected.run_id))
            return
        for run_id, cells in rows.items():
            for (key, _), value in zip(COLUMNS, cells, strict=True):
                table.update_cell(run_id, key, value)

    @work(thread=True, exit_on_error=False, group="runs-sync")
    def _sync(self, runs: list[RunStatus]) -> None:
        from lottery_tui.runs.sync import read_registry, sync_store

        try:
            with self._store_released():
                report = sync_store(self.db, runs)
                stored = read_registry(self.db)
        except Exception as exc:  # a busy store (another writer), or any failure: said
            self.post_message(self._Synced(runs, error=one_line(exc)))
        else:
            self.post_message(
                self._Synced(
                    runs,
                    ingested=list(report.ingested),
                    ingest_errors=list(report.ingest_errors),
                    stored=stored,
                )
            )

    @on(_Synced)
    def _on_synced(self, message: _Synced) -> None:
        self._syncing = False
        if message.error is not None:
            # Busy store (another writer): try again later, not every second.
            self._sync_policy.failed()
            self._say(f"store not updated yet: {message.error}", error=True)
            return
        if message.stored is not None:
            self._stored = message.stored
        fresh = self._sync_policy.succeeded(message.runs, message.ingested)
        for run_id, error in message.ingest_errors:
            self._say(f"ingest of {run_id} failed: {error}", error=True)
        if fresh:
            self._say(f"ingested {len(fresh)} finished run(s) into the store")
            self.post_message(self.ResultsIngested(fresh))

    def _store_released(self) -> AbstractContextManager:
        """The app's read-only store connection must be closed while we write (DuckDB allows one
        writer or many readers); the app lends a context manager for that."""
        if self._release_store is not None:
            return self._release_store()
        database = getattr(self.app, "database", None)
        released = getattr(database, "released", None)
        return released() if callable(released) else contextlib.nullcontext()

    # ----- one run: cancel, log ---------------------------------------------------------------

    def selected_run(self) -> RunStatus | None:
        table = self.query_one("#runs-table", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((r for r in self.runs if r.run_id == key), None)

    def action_cancel(self) -> None:
        run = self.selected_run()
        if run is None:
            self._say("no run selected", error=True)
            return
        if run.state not in ("queued", "running"):
            self._say(f"{run.run_id} is {run.state}: nothing to cancel")
            return
        self._say(f"cancelling {run.run_id}…")
        self._cancel(run)

    @work(thread=True, exit_on_error=False, group="runs-cancel")
    def _cancel(self, run: RunStatus) -> None:
        from lottery_tui.runs.executors.base import cancel_run

        what = cancel_run(run)
        self.post_message(self._Said(f"{run.run_id}: {what}"))
        self.post_message(self._RefreshNeeded())

    def action_toggle_log(self) -> None:
        log = self.query_one("#runs-log", RichLog)
        log.set_class(not log.has_class("hidden"), "hidden")
        if log.display:
            self._show_log()

    @on(DataTable.RowHighlighted, "#runs-table")
    def _row_highlighted(self) -> None:
        self._show_current()
        if self.query_one("#runs-log", RichLog).display:
            self._show_log()

    def _show_log(self) -> None:
        log = self.query_one("#runs-log", RichLog)
        run = self.selected_run()
        log.clear()
        if run is None:
            log.write("no run selected")
            return
        lines = rundir.tail(run.run_dir / rundir.LOG, LOG_LINES)
        log.border_title = f"log of {run.run_id}"
        log.write(
            Text("\n".join(lines)) if lines else Text("(the job printed nothing)", style="dim")
        )
        if run.summary():
            log.write(Text(f"--- {run.state}: {run.summary()}", style="bold"))
        error = rundir.tail(run.run_dir / rundir.ERROR, 40)
        if error:
            log.write(Text("\n".join(["--- error.txt", *error]), style="red"))


def _row(run: RunStatus) -> tuple:
    p = run.progress
    fraction = run.fraction
    progress = "" if fraction is None else f"{fraction:4.0%}"
    if p.eta_s is not None and run.state == "running":
        progress += f" ETA {format_seconds(p.eta_s)}"
    detail = (run.job_id or "") if run.state in ("queued", "running") else run.summary()
    return (
        _middle_cut(run.model, MODEL_WIDTH),
        _middle_cut(run.dataset, DATASET_WIDTH),
        Text(run.state, style=STATE_STYLE.get(run.state, "")),
        progress,
        Text(detail),
        run.run_id.rsplit("--", 1)[-1],
    )


def _middle_cut(name: str, width: int) -> str:
    """Both ends of a long name (they tell models apart), the middle elided."""
    if len(name) <= width:
        return name
    head = (width - 1) // 2
    return f"{name[:head]}…{name[len(name) - (width - 1 - head) :]}"
