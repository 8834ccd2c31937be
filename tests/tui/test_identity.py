"""A model is (source, name) in the explorer too: two sources' models of one name stay two rows,
each with its own numbers, shown as SOURCE:NAME (a name only one source has stays bare)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from lottery_tui.store.explore import find_identity, list_datasets, results_grid
from lottery_tui.store.explore_charts import bump_ranks, reference_rank, scatter_points
from lottery_tui.tui.app import LotteryApp
from lottery_tui.tui.screens.detail import ModelDetailScreen
from lottery_tui.tui.stats import model_detail
from lottery_tui.tui.widgets.arrow_table import ArrowTable

from .conftest import build_small_store, make_app, model_names, settle

CLASH = model_names()[0]
OTHER = "testbed"
OTHER_TOP1 = {"imagenet": 99.5, "imagenet-sketch": 10.25}  # best on imagenet, worst on sketch


@pytest.fixture(scope="module")
def clash_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small store plus a second source's model under the synthetic source's first name."""
    path = build_small_store(tmp_path_factory.mktemp("store") / "clash.duckdb")
    con = duckdb.connect(str(path))
    con.execute(
        "INSERT INTO sources (source_id, name, kind, path, sha256) "
        "VALUES (3, ?, 'import', 'tests/tui/test_identity.py', 'fed789')",
        [OTHER],
    )
    con.execute(
        "INSERT INTO models (model_id, source, name, base_name, framework, family, architecture, "
        "img_size, param_count, source_id) VALUES (1000, ?, ?, 'net', 'tv', 'net', 'net', 224, "
        "25.0, 3)",
        [OTHER, CLASH],
    )
    con.executemany(
        "INSERT INTO aggregate_results VALUES (1000, ?, ?, NULL, 10000, 3)",
        [[ds, top1] for ds, top1 in OTHER_TOP1.items()],
    )
    con.close()
    return path


@pytest.fixture
def con(clash_db: Path):
    connection = duckdb.connect(str(clash_db), read_only=True)
    yield connection
    connection.close()


def synthetic_top1(con: duckdb.DuckDBPyConnection, dataset: str) -> float:
    """The synthetic model's own top-1, read straight from the public view."""
    return con.execute(
        "SELECT top1 FROM results WHERE source = 'synthetic' AND model = ? AND dataset = ?",
        [CLASH, dataset],
    ).fetchone()[0]


def test_same_name_two_sources_is_two_rows_with_their_own_numbers(con):
    grid = results_grid(con, "imagenet", list_datasets(con, "imagenet"))
    rows = {r["model"]: r for r in grid.table.to_pylist()}
    mine, theirs = f"synthetic:{CLASH}", f"{OTHER}:{CLASH}"
    assert {mine, theirs} <= set(rows) and CLASH not in rows
    assert grid.table.num_rows == len(model_names()) + 1
    assert float(rows[theirs]["IN"]) == OTHER_TOP1["imagenet"]
    assert float(rows[theirs]["Sketch"]) == OTHER_TOP1["imagenet-sketch"]
    assert rows[theirs]["ReaL"] is None  # the testbed model has no ReaL result
    assert float(rows[mine]["IN"]) == pytest.approx(synthetic_top1(con, "imagenet"))
    assert float(rows[mine]["ReaL"]) == pytest.approx(synthetic_top1(con, "imagenet-real"))
    above = con.execute(  # independent rank: 1 + models strictly better on imagenet
        "SELECT count(*) FROM results WHERE dataset = 'imagenet' AND top1 > ?",
        [synthetic_top1(con, "imagenet")],
    ).fetchone()[0]
    assert rows[theirs]["IN #"] == 1 and rows[mine]["IN #"] == above + 1
    # every other name is unambiguous, so shown bare
    assert model_names()[1] in rows


def test_shown_names_lead_back_to_their_identity(con):
    assert find_identity(con, f"{OTHER}:{CLASH}").source == OTHER
    assert find_identity(con, model_names()[1]).source == "synthetic"
    with pytest.raises(KeyError):
        find_identity(con, CLASH)  # ambiguous: only SOURCE:NAME names it


def test_detail_reads_only_its_identity(con):
    detail = model_detail(con, f"{OTHER}:{CLASH}", "imagenet")
    rows = detail.per_dataset.to_pylist()
    assert {r["dataset"] for r in rows} == set(OTHER_TOP1)
    assert {r["source"] for r in rows} == {OTHER}
    assert detail.metadata["source"] == OTHER and detail.metadata["framework"] == "tv"
    mine = model_detail(con, f"synthetic:{CLASH}", "imagenet").per_dataset
    assert mine.num_rows == 4 and set(mine.column("source").to_pylist()) == {"synthetic"}


def test_charts_keep_the_identities_apart(con):
    points = {r["model"]: r for r in scatter_points(con, "imagenet", "imagenet-sketch").to_pylist()}
    assert points[f"{OTHER}:{CLASH}"]["top1"] == OTHER_TOP1["imagenet-sketch"]
    assert points[f"synthetic:{CLASH}"]["top1"] == synthetic_top1(con, "imagenet-sketch")
    datasets = [d for d in list_datasets(con, "imagenet") if d.dataset_id in OTHER_TOP1]
    bump = bump_ranks(con, "imagenet", datasets, top=len(model_names()) + 1).to_pylist()
    on_sketch = {r["model"]: r["rank"] for r in bump if r["dataset_index"] == 1}
    assert on_sketch[f"{OTHER}:{CLASH}"] == len(model_names()) + 1  # worst on sketch
    assert on_sketch[f"synthetic:{CLASH}"] < on_sketch[f"{OTHER}:{CLASH}"]
    assert reference_rank(con, f"{OTHER}:{CLASH}", "imagenet") == 1
    assert reference_rank(con, f"synthetic:{CLASH}", "imagenet") > 1
    assert reference_rank(con, f"synthetic:{CLASH}", "imagenet", OTHER) is None


async def test_results_and_detail_show_source_name(clash_db):
    app: LotteryApp = make_app(clash_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        table = app.query_one("#results-table", ArrowTable)
        shown = table.shown.column("model").to_pylist()
        mine = f"synthetic:{CLASH}"
        assert shown[0] == f"{OTHER}:{CLASH}" and mine in shown and CLASH not in shown
        assert shown.count(model_names()[1]) == 1
        await pilot.press(*["down"] * shown.index(mine), "enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ModelDetailScreen)
        assert screen.model == mine
        detail = screen.query_one("#detail-table", ArrowTable).shown
        assert detail.num_rows == 4
        assert set(detail.column("source").to_pylist()) == {"synthetic"}
