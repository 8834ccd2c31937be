"""Pilot tests: the source picker (`S`, `--source`) scopes Rankings, Lottery and Plots."""

from __future__ import annotations

import threading

import duckdb
from textual.widgets import OptionList, Static

from lottery_tui.cli.main import build_parser, main
from lottery_tui.report.labels import AGGREGATE, PAIRED
from lottery_tui.store.explore import list_datasets, list_sources
from lottery_tui.store.explore_charts import bump_ranks, reference_rank, scatter_points
from lottery_tui.tui import launch
from lottery_tui.tui.app import LotteryApp
from lottery_tui.tui.screens.source import SourceScreen
from lottery_tui.tui.widgets.arrow_table import ArrowTable
from lottery_tui.tui.widgets.chart import ChartPanel

from .conftest import (
    DATASETS,
    N_MODELS,
    N_PRED_MODELS,
    PER_IMAGE_SOURCE,
    make_app,
    model_names,
    settle,
)

PER_IMAGE_MODELS = set(model_names()[:N_PRED_MODELS])


def picker_labels(screen: SourceScreen) -> list[str]:
    options = screen.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def choose_source(app: LotteryApp, pilot, label: str) -> None:
    """`S`, then arrow keys to the option starting with `label`, then Enter."""
    await pilot.press("S")
    await settle(app, pilot)
    assert isinstance(app.screen, SourceScreen)
    labels = [text[2:] for text in picker_labels(app.screen)]
    target = next(i for i, text in enumerate(labels) if text.startswith(label))
    steps = target - app.screen.query_one(OptionList).highlighted
    await pilot.press(*(["down"] * steps if steps > 0 else ["up"] * -steps), "enter")
    await settle(app, pilot)


def caption(widget) -> str:
    return str(widget.query_one(".caption", Static).render())


def test_source_queries_keep_to_the_source(two_source_db):
    con = duckdb.connect(str(two_source_db), read_only=True)
    sources = {s.name: s.n_models for s in list_sources(con)}
    assert sources == {"synthetic": N_MODELS - N_PRED_MODELS, PER_IMAGE_SOURCE: N_PRED_MODELS}
    datasets = list_datasets(con, "imagenet", PER_IMAGE_SOURCE)
    assert {d.dataset_id: d.n_models for d in datasets} == {d[0]: N_PRED_MODELS for d in DATASETS}
    points = scatter_points(con, "imagenet", "imagenet-sketch", PER_IMAGE_SOURCE)
    assert set(points.column("model").to_pylist()) == PER_IMAGE_MODELS
    bump = bump_ranks(con, "imagenet", datasets, 10, PER_IMAGE_SOURCE)
    assert set(bump.column("model").to_pylist()) == PER_IMAGE_MODELS
    # Ranked among the source's models only: the worst of them is last there, not 40th.
    top1 = dict(
        con.execute(
            "SELECT model, top1 FROM results WHERE dataset = 'imagenet' AND source = ?",
            [PER_IMAGE_SOURCE],
        ).fetchall()
    )
    worst = min(top1, key=top1.get)
    assert reference_rank(con, worst, "imagenet", PER_IMAGE_SOURCE) == N_PRED_MODELS
    assert reference_rank(con, worst, "imagenet") > N_PRED_MODELS
    con.close()


async def test_source_picker_lists_sources_and_marks_the_current_one(two_source_db):
    app = make_app(two_source_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("S")
        await settle(app, pilot)
        assert isinstance(app.screen, SourceScreen)
        labels = picker_labels(app.screen)
        assert labels[0] == "● all sources"
        assert f"  {PER_IMAGE_SOURCE} ({N_PRED_MODELS} models)" in labels
        assert f"  synthetic ({N_MODELS - N_PRED_MODELS} models)" in labels
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.source is None and not isinstance(app.screen, SourceScreen)
        await choose_source(app, pilot, PER_IMAGE_SOURCE)
        assert app.source == PER_IMAGE_SOURCE
        # Results still lists every model; its caption names the statistics' source.
        results = app.query_one("#results-table", ArrowTable)
        assert results.shown.num_rows == N_MODELS
        assert f"stats: {PER_IMAGE_SOURCE}" in caption(results)
        await pilot.press("S")
        await settle(app, pilot)
        marked = [t for t in picker_labels(app.screen) if t.startswith("●")]
        assert marked == [f"● {PER_IMAGE_SOURCE} ({N_PRED_MODELS} models)"]
        await pilot.press("escape")
        await choose_source(app, pilot, "all sources")
        assert app.source is None
        assert "stats:" not in caption(results)


async def test_lottery_and_rankings_follow_the_source(two_source_db):
    app = make_app(two_source_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        view = app.query_one("#lottery-view")
        everyone = dict(view.gains)
        assert any(not {model, below} <= PER_IMAGE_MODELS for model, below in everyone)
        for (model, below), gain in everyone.items():  # paired only between per-image models
            assert (gain.mode == PAIRED) == ({model, below} <= PER_IMAGE_MODELS)
            assert gain.mode in (PAIRED, AGGREGATE)
        await choose_source(app, pilot, PER_IMAGE_SOURCE)  # while Lottery is shown
        gains = app.query_one("#gains-table", ArrowTable)
        assert PER_IMAGE_SOURCE in gains.title
        assert len(view.gains) == N_PRED_MODELS - 1
        for (model, below), gain in view.gains.items():
            assert {model, below} <= PER_IMAGE_MODELS
            assert gain.mode == PAIRED
        assert set(gains.shown.column("mode").to_pylist()) == {PAIRED}
        await pilot.press("2")
        await settle(app, pilot)
        agreement = app.query_one("#agreement-table", ArrowTable)
        assert PER_IMAGE_SOURCE in agreement.title
        assert set(agreement.shown.column("n_models").to_pylist()) == {N_PRED_MODELS}
        assert PER_IMAGE_SOURCE in caption(app.query_one("#bump-chart", ChartPanel))
        await pilot.press("4")
        await settle(app, pilot)
        plot = caption(app.query_one("#plot-chart", ChartPanel))
        assert f"{N_PRED_MODELS} models · source {PER_IMAGE_SOURCE}" in plot
        await choose_source(app, pilot, "all sources")  # while Plots is shown
        assert f"{N_MODELS} models · fit" in caption(app.query_one("#plot-chart", ChartPanel))


async def test_stale_results_of_an_old_source_are_dropped(two_source_db, monkeypatch):
    """The all-sources verdicts are held back until the per-image ones are shown: arriving
    late, they must not replace them."""
    from lottery_tui.report import service

    release = threading.Event()
    compute = service.marginal_gains

    def held_back(context, options, **kwargs):
        if context.selection.source is None:
            release.wait(timeout=30)
        return compute(context, options, **kwargs)

    monkeypatch.setattr(service, "marginal_gains", held_back)
    app = make_app(two_source_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await pilot.pause()
        app.set_source(PER_IMAGE_SOURCE)  # while the all-sources verdicts are being computed
        view = app.query_one("#lottery-view")
        for _ in range(200):
            if view.gains:
                break
            await pilot.pause(0.05)
        release.set()
        await settle(app, pilot)
        assert view.gains and all(g.mode == PAIRED for g in view.gains.values())
        assert len(view.gains) == N_PRED_MODELS - 1
        assert PER_IMAGE_SOURCE in app.query_one("#gains-table", ArrowTable).title


def test_source_option_reaches_the_explorer(monkeypatch):
    opened: list[dict] = []

    def fake_open_explorer(db, **kwargs):
        opened.append({"db": db, **kwargs})
        return 0

    monkeypatch.setattr(launch, "open_explorer", fake_open_explorer)
    assert main(["--db", "x.duckdb", "--source", PER_IMAGE_SOURCE]) == 0
    assert main(["--db", "x.duckdb"]) == 0
    assert [o["source"] for o in opened] == [PER_IMAGE_SOURCE, None]
    assert "explorer only" in build_parser().format_help().split("--source NAME", 1)[1]


async def test_source_from_the_command_line(two_source_db):
    args = build_parser().parse_args(["--source", PER_IMAGE_SOURCE])
    assert args.command is None and args.source == PER_IMAGE_SOURCE
    assert build_parser().parse_args([]).source is None
    assert build_parser().parse_args(["report", "--source", "timm"]).source == "timm"
    app = make_app(two_source_db, source=args.source)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        agreement = app.query_one("#agreement-table", ArrowTable)
        assert set(agreement.shown.column("n_models").to_pylist()) == {N_PRED_MODELS}


async def test_unknown_source_is_reported_in_place_and_can_be_changed(two_source_db):
    app = make_app(two_source_db, source="no-such-source")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.query_one("#results-table", ArrowTable).shown.num_rows == N_MODELS
        await pilot.press("3")
        await settle(app, pilot)
        gains = app.query_one("#gains-table", ArrowTable)
        message = caption(gains)
        assert message.startswith("verdicts unavailable: unknown source 'no-such-source'")
        assert PER_IMAGE_SOURCE in message and "\n" not in message
        await pilot.press("2")
        await settle(app, pilot)
        assert "unknown source 'no-such-source'" in caption(
            app.query_one("#agreement-table", ArrowTable)
        )
        await choose_source(app, pilot, "synthetic")  # no option is marked: the first is lit
        agreement = app.query_one("#agreement-table", ArrowTable)
        expected = {N_MODELS - N_PRED_MODELS}
        assert set(agreement.shown.column("n_models").to_pylist()) == expected


async def test_command_palette_opens_the_source_picker(two_source_db):
    app = make_app(two_source_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"choose the source")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, SourceScreen)


async def test_shipped_store_analysing_relations_gives_paired_verdicts(shipped_db):
    """The case that motivated the picker: the 15 per-image models' verdicts are paired."""
    app = make_app(shipped_db, source="analysing-relations")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        view = app.query_one("#lottery-view")
        assert len(view.gains) == 14
        assert {g.mode for g in view.gains.values()} == {PAIRED}
        assert {g.test for g in view.gains.values()} == {"exact McNemar"}
        con = duckdb.connect(str(shipped_db), read_only=True)
        per_image = {m for (m,) in con.execute("SELECT DISTINCT model FROM predictions").fetchall()}
        con.close()
        gained = {m for g in view.gains.values() for m in (g.model, g.below)}
        assert {m.source for m in gained} == {"analysing-relations"}
        assert {m.name for m in gained} == per_image
