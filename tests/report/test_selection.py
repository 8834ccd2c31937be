"""The selection every service function starts from, checked against plain SQL on the store."""

from __future__ import annotations

import duckdb
import pytest

from lottery_tui.errors import InputError
from lottery_tui.report.context import ReportContext
from lottery_tui.report.selection import DEFAULT_FOCUS, Selection


@pytest.fixture(scope="module")
def con(shipped_db):
    connection = duckdb.connect(str(shipped_db), read_only=True)
    yield connection
    connection.close()


def _models_on(con, dataset: str) -> list[str]:
    rows = con.execute(
        "SELECT model FROM results WHERE dataset = ? AND source = 'timm' ORDER BY top1 DESC, model",
        [dataset],
    ).fetchall()
    return [r[0] for r in rows]


def test_ranking_is_the_reference_order_with_ties_by_name(con):
    selection = ReportContext.load(con, Selection("imagenet", ["imagenet-r"], source="timm"))
    assert [m.name for m in selection.ranked] == _models_on(con, "imagenet")
    assert selection.variants == ["imagenet-r"]


def test_ranked_with_keeps_reference_order_of_models_with_both_results(con):
    selection = ReportContext.load(con, Selection("imagenet", ["imagenet-a"], source="timm"))
    on_a = set(_models_on(con, "imagenet-a"))
    expected = [m for m in _models_on(con, "imagenet") if m in on_a]
    assert len(expected) < len(selection.ranked)  # some timm models lack imagenet-a
    assert [m.name for m in selection.ranked_with("imagenet-a")] == expected


def test_focus_is_the_top_of_the_ranking(con):
    selection = ReportContext.load(con, Selection("imagenet", ["imagenet-r"], source="timm"))
    assert selection.focus(None) == list(selection.ranked[:DEFAULT_FOCUS])
    assert selection.focus(5) == list(selection.ranked[:5])


def test_a_reference_without_results_is_refused(con):
    with pytest.raises(InputError, match="--reference"):
        ReportContext.load(
            con, Selection("imagenet-a", ["imagenet"], "vgg*", "analysing-relations")
        )
