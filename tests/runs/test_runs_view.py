"""The Runs view in a small host app (Pilot): load a tiny CPU plan, launch it, see it complete,
and see the app told that results were ingested."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import duckdb
import pytest
from textual.app import App, ComposeResult
from textual.widgets import DataTable, SelectionList

from lottery_tui.tui.views.runs import RunsView

from .tiny_probe import write_tiny_probe_plan

pytestmark = pytest.mark.torch


class Host(App):
    def __init__(self, **view_args) -> None:
        super().__init__()
        self.view_args = view_args
        self.ingested: list[str] = []

    def compose(self) -> ComposeResult:
        yield RunsView(id="runs-view", **self.view_args)

    def on_runs_view_results_ingested(self, message: RunsView.ResultsIngested) -> None:
        self.ingested += message.run_ids


async def _until(pilot, predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.2)
        await pilot.pause()
    return predicate()


async def test_runs_view_launches_a_plan_and_follows_it_to_done(tmp_path: Path, store: Path):
    plan = write_tiny_probe_plan(tmp_path / "plan", n_images=6, models=("tiny-a", "tiny-b"))
    results = tmp_path / "results"
    app = Host(db=store, results_dir=results, plan=plan)
    async with app.run_test(size=(140, 40)) as pilot:
        view = app.query_one(RunsView)
        models = app.query_one("#runs-models", SelectionList)
        assert list(models.selected) == ["tiny-a", "tiny-b"]
        models.deselect("tiny-b")  # pick a subset: one model x the dataset
        table = app.query_one("#runs-table", DataTable)
        table.focus()
        await pilot.press("l")
        assert await _until(pilot, lambda: table.row_count == 1, 60)
        assert await _until(pilot, lambda: [r.state for r in view.runs] == ["done"], 120)
        assert await _until(pilot, lambda: len(app.ingested) == 1, 30)
        (run,) = view.runs
        assert run.model == "tiny-a" and app.ingested == [run.run_id]
        row = [str(c) for c in table.get_row(run.run_id)]
        assert row[:3] == ["tiny-a", "imagenet", "done"] and row[3].strip() == "100%"
        assert row[-1] == run.run_id.rsplit("--", 1)[-1]  # the id's hash; the full id below
        await pilot.press("g")  # the log of the selected run
        assert view.query_one("#runs-log").display
    con = duckdb.connect(str(store), read_only=True)
    n = con.execute(
        "SELECT count(*) FROM predictions WHERE model = 'tiny-a' AND dataset = 'imagenet'"
    ).fetchone()[0]
    runs = con.execute("SELECT model, state, ingested FROM probe_runs").fetchall()
    con.close()
    assert n == 6 and runs == [("tiny-a", "done", True)]


async def test_runs_view_reports_a_bad_plan_and_launches_nothing(tmp_path: Path, store: Path):
    plan = write_tiny_probe_plan(tmp_path / "plan", n_images=2)
    (tmp_path / "plan" / "tiny-r18.pth").unlink()  # the checkpoint is gone
    results = tmp_path / "results"
    app = Host(db=store, results_dir=results, plan=plan)
    async with app.run_test(size=(140, 40)) as pilot:
        app.query_one("#runs-table", DataTable).focus()
        await pilot.press("l")
        status = app.query_one("#runs-status")
        assert await _until(pilot, lambda: "does not exist" in str(status.render()), 60)
        assert "tiny-r18" in str(status.render())
    assert not any(p.name != ".lanes" for p in results.iterdir())


async def test_runs_view_cancels_the_selected_run_and_shows_its_log(tmp_path: Path, store: Path):
    from lottery_tui.runs.executors.local import LocalExecutor
    from lottery_tui.runs.launch import launch_plan
    from lottery_tui.runs.plan import load_plan
    from lottery_tui.runs.status import read_status

    from .helpers import FAKE_JOB, write_fake_plan

    rules = {"*": {"steps": 600, "delay": 0.05}}
    plan = load_plan(write_fake_plan(tmp_path / "plan", ["slow"], ["ds"], rules))
    results = tmp_path / "results"
    (run_dir,) = launch_plan(plan, LocalExecutor(results, FAKE_JOB, gpus=[]), results).launched
    app = Host(db=store, results_dir=results)
    async with app.run_test(size=(140, 40)) as pilot:
        view = app.query_one(RunsView)
        table = app.query_one("#runs-table", DataTable)
        table.focus()
        assert await _until(pilot, lambda: [r.state for r in view.runs] == ["running"], 30)
        # img/s of the run under the cursor: the stand-in reports 1 / 0.05 s = 20 a second.
        current = app.query_one("#runs-current")
        assert await _until(pilot, lambda: "20 img/s" in str(current.render()), 10)
        assert "ETA" in str(table.get_row_at(0)[3])
        await pilot.press("g")
        log = view.query_one("#runs-log")
        assert await _until(
            pilot, lambda: any("starting at 0/600" in str(line.text) for line in log.lines), 10
        )
        await pilot.press("c")
        assert await _until(pilot, lambda: [r.state for r in view.runs] == ["cancelled"], 30)
    assert read_status(run_dir).state == "cancelled"
