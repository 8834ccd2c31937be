"""Numbers that cannot be misread: rank change over the models both datasets have; the gain
panel's intersection-union p-value named as such."""

from __future__ import annotations

import shutil

import duckdb
from textual.widgets import Static

from lottery_tui.report.numbers import format_p
from lottery_tui.store.explore import reference_grid
from lottery_tui.tui.screens.gain import GainDetailScreen

from .conftest import make_app, settle, type_batch


def competition_ranks(scores: dict[str, float]) -> dict[str, int]:
    """Rank 1 = highest, ties share the best rank (SQL's rank())."""
    return {m: 1 + sum(o > s for o in scores.values()) for m, s in scores.items()}


def test_rank_change_only_over_models_on_both_datasets(small_db, tmp_path):
    db = tmp_path / "gaps.duckdb"
    shutil.copy(small_db, db)
    con = duckdb.connect(str(db))
    # The three best models on the reference have no V2 result (like per-image-only models).
    con.execute(
        "DELETE FROM aggregate_results WHERE dataset_id = 'imagenetv2-matched-frequency' "
        "AND model_id IN (1, 2, 3)"
    )
    top1 = con.sql(
        "SELECT m.name, a.dataset_id, a.top1 FROM aggregate_results a JOIN models m USING "
        "(model_id)"
    ).fetchall()
    grid = reference_grid(con, "imagenet")
    con.close()
    ref = {m: float(t) for m, d, t in top1 if d == "imagenet"}
    v2 = {m: float(t) for m, d, t in top1 if d == "imagenetv2-matched-frequency"}
    both = set(ref) & set(v2)
    ref_rank = competition_ranks({m: ref[m] for m in both})
    v2_rank = competition_ranks({m: v2[m] for m in both})
    shown = {r["model"]: r["V2 ±#"] for r in grid.table.to_pylist()}
    for model in both:
        assert shown[model] == ref_rank[model] - v2_rank[model]
    assert all(shown[m] is None for m in set(ref) - both)
    assert sum(shown[m] for m in both) == 0  # a permutation of the same models: changes cancel


async def test_gain_panel_names_the_intersection_union_p_value(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        type_batch(app, "3")
        await settle(app, pilot)
        type_batch(app, "d")
        await settle(app, pilot)
        assert isinstance(app.screen, GainDetailScreen)
        text = str(app.screen.query_one("#gain-headline", Static).render())
        gain = app.screen.gain
        assert f"intersection-union test p = {format_p(gain.p_all_variants)}" in text
        assert "p(holds" not in text


async def test_messages_wrap_at_80_columns_and_the_footer_fits(two_source_db):
    from textual.widgets import Footer

    from lottery_tui.tui.widgets.arrow_table import ArrowTable

    from .conftest import PER_IMAGE_SOURCE

    app = make_app(two_source_db, source="analysing-relation")  # no such source
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        footer = app.query_one(Footer)
        assert footer.virtual_size.width <= 80
        type_batch(app, "2")
        await settle(app, pilot)
        caption = app.query_one("#agreement-table", ArrowTable).query_one(".caption")
        text = str(caption.render())
        assert "S chooses one of" in text and text.rstrip().endswith(
            PER_IMAGE_SOURCE + ", synthetic"
        )
        room = caption.size.width - 2  # its padding
        assert len(text) > room  # the message needs more than one line at 80 columns...
        assert caption.size.height * room >= len(text)  # ...and gets them: wrapped, not cut
        type_batch(app, "3")
        await settle(app, pilot)
        assert footer.virtual_size.width <= 80


async def test_switches_say_what_is_computed_at_once(small_db, monkeypatch):
    import threading

    from lottery_tui.report import service
    from lottery_tui.tui.widgets.arrow_table import ArrowTable

    release = threading.Event()
    real = service.rank_agreement

    def held(*args, **kwargs):  # the statistics wait until the test has read the screen
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "rank_agreement", held)
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        type_batch(app, "2")
        await pilot.pause()
        await pilot.pause()
        table = app.query_one("#agreement-table", ArrowTable)
        text = str(table.query_one(".caption", Static).render())
        assert text.startswith("⧗ computing Kendall tau-b per dataset against imagenet")
        assert "1,000 resamples" in text and text.endswith(" s")
        release.set()
        await settle(app, pilot)
        assert table.shown is not None and not table.working
        app.set_reference("imagenet-real")  # as `R` does: Results says what it recomputes
        results = app.query_one("#results-table", ArrowTable)
        text = str(results.query_one(".caption", Static).render())
        assert text.startswith("⧗ Δ, ranks and rank changes against imagenet-real")
        await settle(app, pilot)
        assert not results.working


async def test_lottery_summary_line_above_lottery_and_rankings(small_db):
    import duckdb

    from lottery_tui.report import service
    from lottery_tui.report.summary import summarize

    con = duckdb.connect(str(small_db), read_only=True)
    context = service.ReportContext.load(con, service.Selection("imagenet"))
    expected = {
        top: summarize(service.marginal_gains(context, service.Options(), top=top)).text()
        for top in (None, 25)
    }
    con.close()
    app = make_app(small_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        type_batch(app, "2")
        await settle(app, pilot)
        ranking_line = str(app.query_one("#rankings-summary", Static).render())
        assert ranking_line.startswith(expected[None])
        assert "adjacent pairs significantly reversed" in ranking_line and "+/-" in ranking_line
        type_batch(app, "3")
        await settle(app, pilot)
        lottery_line = str(app.query_one("#lottery-summary", Static).render())
        assert lottery_line == ranking_line  # computed once, the same words in both views
        type_batch(app, "plus")
        await settle(app, pilot)
        lottery_line = str(app.query_one("#lottery-summary", Static).render())
        assert lottery_line.startswith(expected[25]) and "N: top 25" in lottery_line
