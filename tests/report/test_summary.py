"""The report summary: known counts from hand-built gains, and the shipped store's swaps
recounted from the aggregate accuracies."""

from __future__ import annotations

import itertools

import duckdb
import numpy as np
import pytest

from analysis import gains as rule
from lottery_tui.report import service
from lottery_tui.report.context import ReportContext
from lottery_tui.report.data import load_aggregates
from lottery_tui.report.labels import AGGREGATE, MIXED, PAIRED
from lottery_tui.report.marginal import MarginalGain, VariantResult
from lottery_tui.report.selection import Options, Selection
from lottery_tui.report.summary import summarize


def _variant(delta: float, mode: str = PAIRED, outcome: str = "inconclusive") -> VariantResult:
    return VariantResult("v", mode, "t", delta, 0, 0, "m", 0.5, 0.5, outcome, 0, 0, 0, False)


def _gain(a, b, delta, verdict, variants, *, adjacent=True, mode=PAIRED) -> MarginalGain:
    return MarginalGain(
        a,
        b,
        "ref",
        mode,
        "t",
        delta,
        0.5,
        0.5,
        0,
        0,
        "m",
        variants,
        0.5,
        [],
        verdict,
        "holm",
        adjacent,
        a,
    )


def test_known_counts():
    gains = [
        _gain("m1", "m2", 0.010, rule.REAL_GAIN, [_variant(0.02), _variant(0.01)]),
        _gain(
            "m2",
            "m3",
            0.002,
            rule.LOTTERY_WIN,
            [_variant(0.01), _variant(-0.01, PAIRED, "reverses")],
        ),
        _gain("m3", "m4", 0.0, rule.NOT_SIGNIFICANT, [_variant(-0.01)]),  # tie: no order
        _gain("m4", "m5", 0.001, rule.NOT_SIGNIFICANT, [_variant(0.0), _variant(-0.002)]),
        _gain("m5", "m6", 0.001, rule.UNCONFIRMED, [_variant(0.0, AGGREGATE)]),
        _gain("m9", "m1", -0.02, rule.REFERENCE_NEGATIVE, [_variant(0.5)], adjacent=False),
    ]
    s = summarize(gains)
    assert s.verdicts == {
        rule.REAL_GAIN: 1,
        rule.LOTTERY_WIN: 1,
        rule.UNCONFIRMED: 1,
        rule.NOT_SIGNIFICANT: 2,
        rule.REVERSED_ON_VARIANTS: 0,
        rule.REFERENCE_NEGATIVE: 1,
    }
    assert (s.top, s.adjacent_pairs, s.swapped_pairs, s.reversed_pairs) == (6, 5, 2, 1)
    assert (s.paired_tests, s.aggregate_tests, s.data) == (14, 1, MIXED)
    assert s.text().startswith("6 gains judged among the top 6 (1 real gain, 1 lottery win,")
    assert "1 of 5 adjacent pairs significantly reversed on at least one variant" in s.text()
    assert "1 more swapped in point estimates only (within noise: not lottery evidence)" in s.text()
    many = summarize(gains[:2] * 2)  # counts of two: the noun verdicts in the plural
    assert many.text().startswith("4 gains judged among the top 3 (2 real gains, 2 lottery wins)")
    one = summarize(gains[:1])
    assert one.text().startswith("1 gain judged among the top 2 (1 real gain)")
    only_aggregate = summarize([_gain("a", "b", 0.01, rule.UNCONFIRMED, [], mode=AGGREGATE)])
    assert (only_aggregate.data, only_aggregate.top, only_aggregate.swapped_pairs) == (
        AGGREGATE,
        2,
        0,
    )
    assert summarize([]).data == "none"


@pytest.fixture(scope="module")
def con(shipped_db):
    connection = duckdb.connect(str(shipped_db), read_only=True)
    yield connection
    connection.close()


def test_shipped_swaps_match_the_aggregates(con):
    ctx = ReportContext.load(
        con, Selection(source="analysing-relations", datasets=["imagenet-real"])
    )
    gains = service.marginal_gains(ctx, Options(resamples=200))
    s = summarize(gains)
    agg = load_aggregates(con, source="analysing-relations")
    val, real = agg.column("imagenet"), agg.column("imagenet-real")
    order = np.argsort(-val, kind="stable")
    swaps = sum((val[i] - val[j]) * (real[i] - real[j]) < 0 for i, j in itertools.pairwise(order))
    assert (s.top, s.adjacent_pairs, s.data) == (15, 14, PAIRED)
    assert s.swapped_pairs == swaps
    reversed_ = sum(any(v.outcome == "reverses" for v in g.variants) for g in gains if g.adjacent)
    assert s.reversed_pairs == reversed_ <= swaps
    assert sum(s.verdicts.values()) == 14 and s.paired_tests == 28
