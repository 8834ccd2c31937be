"""Enter on a Lottery row compares the row's own identities: with one name in two sources, the
comparison is of the model the row stands for, handed over as the identity, not as its text."""

from __future__ import annotations

import pytest

from lottery_tui.report import service
from lottery_tui.store.identity import ModelRef
from lottery_tui.tui.widgets.arrow_table import ArrowTable

from .conftest import DATASETS, make_app, settle
from .test_identity import CLASH, OTHER, OTHER_TOP1, clash_db  # noqa: F401 (fixture)


@pytest.mark.parametrize("source", [OTHER, "synthetic"])
async def test_enter_on_a_row_compares_the_identity_it_shows(clash_db, source, monkeypatch):  # noqa: F811
    handed: list[tuple[object, object]] = []
    compare = service.compare

    def spy(con, a, b, selection, options):
        handed.append((a, b))
        return compare(con, a, b, selection, options)

    monkeypatch.setattr(service, "compare", spy)
    shown = f"{source}:{CLASH}"  # two sources have CLASH: each row shows SOURCE:NAME
    app = make_app(clash_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        gains = app.query_one("#gains-table", ArrowTable)
        rows = gains.shown.to_pylist()
        assert any(f"{OTHER}:{CLASH}" in (r["model"], r["below"]) for r in rows)
        assert any(f"synthetic:{CLASH}" in (r["model"], r["below"]) for r in rows)
        pairs = [{r["model"], r["below"]} for r in rows]
        index = next(i for i, p in enumerate(pairs) if shown in p and len(p - {shown}) == 1)
        assert not (pairs[index] - {shown}).pop().endswith(f":{CLASH}")
        gains.data_table.move_cursor(row=index)
        await pilot.press("enter")
        await settle(app, pilot)
        row = rows[index]
        ((a, b),) = handed
        assert isinstance(a, ModelRef) and isinstance(b, ModelRef)
        clash = a if row["model"] == shown else b
        assert (clash.source, clash.name) == (source, CLASH)
        compared = app.query_one("#compare-table", ArrowTable)
        assert compared.title == f"{row['model']} vs {row['below']}"
        datasets = {r["dataset"] for r in compared.shown.to_pylist()}
        if source == OTHER:  # its own two results, not the synthetic CLASH's four datasets
            assert datasets == set(OTHER_TOP1)
        else:
            assert datasets == {d[0] for d in DATASETS}
