"""`e` on Plots: the shown chart written as a publication figure through lottery_tui.figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import make_app, settle

pytest.importorskip("matplotlib")


def notifications(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_e_exports_the_shown_scatter_and_rank_distribution(small_db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(small_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("4")
        await settle(app, pilot)
        plots = app.query_one("PlotsView")
        target = plots.datasets[1].dataset_id
        await pilot.press("e")
        await settle(app, pilot)
        scatter = tmp_path / f"lottery-scatter-{target}.svg"
        assert scatter.is_file() and f"{target} against" in scatter.read_text()
        assert f"wrote {scatter}" in notifications(app)
        await pilot.press("t", "e")
        await settle(app, pilot)
        ranks = tmp_path / f"lottery-ranks-{plots.app.scope[0]}.svg"
        assert ranks.is_file() and "Rank uncertainty on" in ranks.read_text()
        assert f"wrote {ranks}" in notifications(app)
        assert sorted(p.name for p in Path(tmp_path).iterdir()) == sorted(
            [scatter.name, ranks.name]
        )
