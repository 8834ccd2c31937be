"""The Runs view at 80x24 and 100x30 (Pilot, no torch): state, progress and detail stay on screen,
the full run id and the executor have their own line, `?` lists the view's keys, and a launch that
cannot even create its log folder leaves the view able to launch again."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Static

from lottery_tui.runs.executors.local import LocalExecutor
from lottery_tui.runs.follow import SyncPolicy
from lottery_tui.runs.launch import launch_plan
from lottery_tui.runs.plan import load_plan
from lottery_tui.runs.status import scan_runs
from lottery_tui.tui.views.runs import RunsView

from .helpers import FAKE_JOB, wait_for, write_fake_plan

LONG = "convnext_large_mlp.clip_laion2b_augreg_ft_in1k_384"


class Host(App):
    def __init__(self, **view_args) -> None:
        super().__init__()
        self.view_args = view_args

    def compose(self) -> ComposeResult:
        yield RunsView(id="runs-view", **self.view_args)


async def _until(pilot, predicate, timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.1)
        await pilot.pause()
    return predicate()


@pytest.fixture
def finished(tmp_path: Path) -> tuple[Path, Path]:
    """Two finished runs, one of a model with a long name, and the plan that made them."""
    plan = write_fake_plan(
        tmp_path / "plan", [LONG, "m2"], ["imagenet-sketch"], {"*": {"steps": 2}}
    )
    results = tmp_path / "results"
    launch_plan(load_plan(plan), LocalExecutor(results, FAKE_JOB, gpus=[]), results)
    assert wait_for(lambda: {r.state for r in scan_runs(results)} == {"done"}, 30)
    return plan, results


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_state_progress_and_detail_fit_the_screen(finished, tmp_path, size) -> None:
    plan, results = finished
    app = Host(db=tmp_path / "none.duckdb", results_dir=results, plan=plan)
    async with app.run_test(size=size) as pilot:
        table = app.query_one("#runs-table", DataTable)
        assert await _until(pilot, lambda: table.row_count == 2)
        widths = {str(c.key.value): c.get_render_width(table) for c in table.columns.values()}
        order = [str(k.value) for k in table.columns]
        detail_at = sum(widths[k] for k in order[: order.index("detail")])
        # State and Progress whole, and Detail's first 12 characters, inside the screen.
        assert detail_at + 12 <= size[0] - 2, widths
        names = [str(table.get_cell_at((i, 0))) for i in range(2)]
        cut = next(n for n in names if n != "m2")
        assert cut.startswith("convnext_") and cut.endswith("1k_384") and "…" in cut
        table.focus()
        table.move_cursor(row=names.index(cut))
        await pilot.pause()
        current = str(app.query_one("#runs-current", Static).render())
        run = next(r for r in app.query_one(RunsView).runs if r.model == LONG)
        assert run.run_id in current and "executor local" in current


async def test_executor_switch_stays_visible_after_the_next_message(finished, tmp_path) -> None:
    plan, results = finished
    app = Host(db=tmp_path / "none.duckdb", results_dir=results, plan=plan)
    async with app.run_test(size=(80, 24)) as pilot:
        app.query_one("#runs-table", DataTable).focus()
        await pilot.press("x")
        await pilot.press("r")  # any later message
        await pilot.press("c")
        await pilot.pause()
        assert "executor slurm" in str(app.query_one("#runs-current", Static).render())


async def test_failed_launch_setup_does_not_block_the_next_launch(tmp_path) -> None:
    plan = write_fake_plan(tmp_path / "plan", ["m"], ["ds"])
    blocker = tmp_path / "results"
    blocker.write_text("a file where the results folder should be")
    app = Host(db=tmp_path / "none.duckdb", results_dir=blocker, plan=plan)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(RunsView)
        app.query_one("#runs-table", DataTable).focus()
        for _ in range(2):  # the second launch is tried too, not "already in progress"
            await pilot.press("l")
            status = app.query_one("#runs-status", Static)
            said = lambda s=status: "cannot launch" in str(s.render())  # noqa: E731
            assert await _until(pilot, said)
            assert not view._launching
            status.update("")


async def test_help_lists_the_runs_keys() -> None:
    from lottery_tui.tui.screens.help import HELP_TEXT

    rows = [line for line in HELP_TEXT.splitlines() if "| Runs |" in line]
    assert sorted(line.split("`")[1] for line in rows) == sorted([*"lcgxrp", "space"])


def test_sync_policy_syncs_changed_states_and_waits_after_a_failure() -> None:
    from lottery_tui.runs.status import Progress, RunStatus

    def run(state: str) -> RunStatus:
        return RunStatus("r1", Path("/r1"), "m", "d", None, None, None, None, state, Progress())

    policy = SyncPolicy(retry_s=15.0)
    assert policy.due([run("running")], now=0.0)
    policy.failed(now=0.0)
    assert not policy.due([run("running")], now=10.0)
    assert policy.due([run("running")], now=15.0)
    assert policy.succeeded([run("done")], ["r1"]) == ["r1"]
    assert not policy.due([run("done")], now=16.0)
    assert policy.succeeded([run("done")], ["r1"]) == []  # announced once
