"""A model is (source, name) in the explorer too: two sources' models of one name stay two rows,
each with its own numbers, shown as SOURCE:NAME (a name only one source has stays bare); and the
pretraining/protocol filter (T, --pretraining, --protocol) narrows Results and the statistics."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from textual.widgets import OptionList

from lottery_tui.cli.main import main
from lottery_tui.store.explore import find_identity, list_datasets, results_grid
from lottery_tui.store.explore_charts import bump_ranks, reference_rank, scatter_points
from lottery_tui.store.identity import ModelFilter, ModelRef
from lottery_tui.tui import launch
from lottery_tui.tui.app import LotteryApp
from lottery_tui.tui.screens.detail import ModelDetailScreen
from lottery_tui.tui.screens.tags import TagsScreen
from lottery_tui.tui.stats import model_detail
from lottery_tui.tui.widgets.arrow_table import ArrowTable
from lottery_tui.tui.widgets.chart import ChartPanel

from .conftest import N_MODELS, build_small_store, make_app, model_names, settle

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
        "img_size, param_count, source_id, pretraining, protocol) VALUES (1000, ?, ?, 'net', "
        "'tv', 'net', 'net', 224, 25.0, 3, 'self-supervised', 'linear-probe')",
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
    found = find_identity(con, f"{OTHER}:{CLASH}")
    assert found.source == OTHER
    (model_id,) = con.execute(  # the store's one identity type, model id included
        "SELECT model_id FROM models WHERE source = ? AND name = ?", [OTHER, CLASH]
    ).fetchone()
    assert found == ModelRef(OTHER, CLASH, model_id)
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


def test_filter_narrows_the_grid_but_not_the_ranks(con):
    datasets = list_datasets(con, "imagenet")
    ssl = results_grid(con, "imagenet", datasets, ModelFilter(pretraining="self-supervised"))
    assert ssl.table.column("model").to_pylist() == [f"{OTHER}:{CLASH}"]
    assert ssl.table.column("IN #").to_pylist() == [1]  # ranked among every model
    probes = results_grid(con, "imagenet", datasets, ModelFilter(protocol="linear-probe"))
    assert probes.table.num_rows == 1
    unknown = results_grid(con, "imagenet", datasets, ModelFilter(pretraining="unknown"))
    assert unknown.table.num_rows == N_MODELS and f"{OTHER}:{CLASH}" not in set(
        unknown.table.column("model").to_pylist()
    )
    kept = list_datasets(con, "imagenet", ModelFilter(pretraining="self-supervised"))
    assert {d.dataset_id: d.n_models for d in kept} == dict.fromkeys(OTHER_TOP1, 1)


async def pick_tag(app: LotteryApp, pilot, label: str) -> None:
    """`T`, then arrow keys to the option `label`, then Enter."""
    await pilot.press("T")
    await settle(app, pilot)
    assert isinstance(app.screen, TagsScreen)
    labels = [label for _, label in app.screen.choices]
    steps = labels.index(label) - app.screen.query_one(OptionList).highlighted
    await pilot.press(*(["down"] * steps if steps > 0 else ["up"] * -steps), "enter")
    await settle(app, pilot)


async def test_tags_key_filters_results_and_statistics(clash_db):
    app = make_app(clash_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        table = app.query_one("#results-table", ArrowTable)
        assert table.shown.num_rows == N_MODELS + 1
        await pick_tag(app, pilot, "pretraining: self-supervised")
        assert table.shown.column("model").to_pylist() == [f"{OTHER}:{CLASH}"]
        assert "pretraining self-supervised (T)" in str(table.note)
        await pick_tag(app, pilot, "pretraining: unknown")
        assert table.shown.num_rows == N_MODELS
        await pilot.press("2")
        await settle(app, pilot)
        agreement = app.query_one("#agreement-table", ArrowTable)
        assert "pretraining unknown" in agreement.title
        n_models = dict(
            zip(
                agreement.shown.column("dataset").to_pylist(),
                agreement.shown.column("n_models").to_pylist(),
                strict=True,
            )
        )
        assert n_models["imagenet-sketch"] == N_MODELS  # the testbed model is left out
        await pick_tag(app, pilot, "pretraining: any")
        assert table.shown.num_rows == N_MODELS + 1


async def test_command_palette_opens_the_tags_picker(clash_db):
    app = make_app(clash_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"filter by pretraining")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, TagsScreen)


async def test_tag_options_reach_the_explorer(clash_db, monkeypatch):
    opened: list[dict] = []

    def fake_open_explorer(db, **kwargs):
        opened.append(kwargs)
        return 0

    monkeypatch.setattr(launch, "open_explorer", fake_open_explorer)
    assert main(["--db", "x.duckdb", "--pretraining", "self-supervised"]) == 0
    assert main(["--db", "x.duckdb", "--protocol", "linear-probe"]) == 0
    assert [(o["pretraining"], o["protocol"]) for o in opened] == [
        ("self-supervised", None),
        (None, "linear-probe"),
    ]
    app = make_app(clash_db, protocol="linear-probe")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        rows = app.query_one("#results-table", ArrowTable).shown
        assert rows.column("model").to_pylist() == [f"{OTHER}:{CLASH}"]


async def test_rank_distribution_of_a_source_name_model_the_report_names_bare(clash_db):
    """With only `unknown` pretraining kept, the report's selection has CLASH once (bare) while
    the explorer still writes it SOURCE:NAME: the distribution is found all the same."""
    app = make_app(clash_db, pretraining="unknown")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        shown = app.query_one("#results-table", ArrowTable).shown.column("model").to_pylist()
        mine = f"synthetic:{CLASH}"
        await pilot.press(*["down"] * shown.index(mine), "4", "t")
        await settle(app, pilot)
        chart = app.query_one("#plot-chart", ChartPanel)
        assert chart.spec.title == f"rank distribution of {mine}"
        assert sum(chart.spec.series[0].y) == pytest.approx(1.0, abs=1e-6)
