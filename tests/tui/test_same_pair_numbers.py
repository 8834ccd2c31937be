"""One pair, one interval: the Lottery verdict and the compare pane draw the same number of
bootstrap draws from the pair's own stream, so the unadjusted interval and p are identical;
the adjusted p differs only as far as the two panes name different families."""

from __future__ import annotations

from lottery_tui.report.labels import PAIRED
from lottery_tui.tui.gains import gain_options
from lottery_tui.tui.widgets.arrow_table import ArrowTable

from .conftest import PER_IMAGE_SOURCE, make_app, settle

REFERENCE = "imagenet"


async def test_a_pair_shows_one_interval_in_the_verdicts_and_the_compare_pane(two_source_db):
    """Over the source whose models have per-image predictions, so the interval is a paired
    bootstrap's: with different draws it would differ."""
    app = make_app(two_source_db, source=PER_IMAGE_SOURCE)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        gains = app.query_one("#gains-table", ArrowTable)
        rows = gains.shown.to_pylist()
        k = next(i for i, r in enumerate(rows) if r["mode"] == PAIRED)
        verdict = rows[k]
        pair = verdict["model"], verdict["below"]
        gains.focus_table()
        await pilot.pause()
        await pilot.press(*["down"] * k, "enter")
        await settle(app, pilot)
        compare = app.query_one("#compare-table", ArrowTable)
        assert compare.title == f"{pair[0]} vs {pair[1]}"
        (row,) = [r for r in compare.shown.to_pylist() if r["dataset"] == REFERENCE]
        assert row["mode"] == PAIRED
        for column in ("delta", "ci_low", "ci_high", "p_value"):
            assert row[column] == verdict[column], column
        verdicts_note, compare_note = gains.note, compare.note
        draws = f"{gain_options().resamples:,}"
        assert f"{draws} resampling draws" in verdicts_note  # flips: bootstrap or binomial
        assert f"{draws} bootstrap draws on the 1 paired dataset" in compare_note
        n_gains = len({frozenset((r["model"], r["below"])) for r in rows})
        n_datasets = compare.shown.num_rows
        assert f"over {n_gains} gains on {REFERENCE}" in verdicts_note
        assert f"over {n_datasets} datasets of this pair" in compare_note
        if row["p_adjusted"] != verdict["p_adjusted"]:  # only because the families differ
            assert n_gains != n_datasets
