"""No verdict contradicts its own row: a property over simulated rows (boundary p-values
included) and every gain of real reports, and a reversed adjacent --pair is reported."""

from __future__ import annotations

import calls
import duckdb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import gains
from lottery_tui.report.marginal import gain_pairs, reference_family


def check_verdict_agrees_with_rows(
    verdict: str, delta: float, p_ref: float, outcomes: list[str], p_all: float, alpha: float
) -> None:
    """No verdict contradicts its own row: the verdict follows from the printed reference p
    and the printed per-variant outcomes by the rule in docs/statistics.md."""
    ref_significant = p_ref < alpha and delta != 0
    reverses = "reverses" in outcomes
    every = bool(outcomes) and all(o == "holds" for o in outcomes)
    assert (p_all < alpha) == every
    expected = (
        gains.REFERENCE_NEGATIVE
        if delta < 0
        else gains.REVERSED_ON_VARIANTS
        if not ref_significant and delta > 0 and reverses
        else gains.NOT_SIGNIFICANT
        if not ref_significant
        else gains.LOTTERY_WIN
        if reverses
        else gains.REAL_GAIN
        if every
        else gains.UNCONFIRMED
    )
    assert verdict == expected


@settings(max_examples=400, deadline=None)
@given(
    st.floats(-0.05, 0.05),
    st.sampled_from([0.0, 1e-6, 0.01, 0.0499, 0.05, 0.0501, 0.2, 1.0]),
    st.lists(
        st.tuples(
            st.floats(-0.05, 0.05),
            st.sampled_from([0.0, 1e-6, 0.01, 0.024, 0.025, 0.0499, 0.05, 0.3, 1.0]),
        ),
        max_size=6,
    ),
    st.sampled_from([0.05, 0.1, 0.01]),
    st.sampled_from(["holm", "bh", "bonferroni", "hochberg"]),
)
def test_no_verdict_contradicts_its_row(delta, p_ref, rows, alpha, method):
    """Property over simulated rows, boundary p-values (p = alpha exactly) included: the
    verdict, the outcomes and the intersection-union p agree, one inequality everywhere."""
    deltas = np.array([d for d, _ in rows])
    ps = np.array([p for _, p in rows])
    result = gains.verdict(
        delta,
        p_ref,
        [f"d{i}" for i in range(len(rows))],
        deltas,
        ps,
        np.zeros(len(rows)),
        alpha=alpha,
        method=method,
    )
    sign = -1 if delta < 0 else 1
    for o, d in zip(result.outcomes, deltas, strict=True):
        sig = o.p_adjusted < alpha and d != 0
        assert o.outcome == (
            "inconclusive" if not sig else "holds" if np.sign(d) == sign else "reverses"
        )
    check_verdict_agrees_with_rows(
        result.verdict,
        delta,
        p_ref,
        [o.outcome for o in result.outcomes],
        result.p_all_variants if rows else float("nan"),
        alpha,
    )


@pytest.fixture(scope="module")
def con(shipped_db):
    connection = duckdb.connect(str(shipped_db), read_only=True)
    yield connection
    connection.close()


@pytest.mark.parametrize(
    ("source", "alpha"),
    [("analysing-relations", 0.05), ("analysing-relations", 0.2), ("timm", 0.05)],
)
def test_real_rows_never_contradict_their_verdicts(con, source, alpha):
    rows = calls.gains(con, source=source, resamples=200, alpha=alpha)
    assert len(rows) >= 14
    for g in rows:
        check_verdict_agrees_with_rows(
            g.verdict,
            g.delta,
            g.p_adjusted,
            [v.outcome for v in g.variants],
            g.p_all_variants,
            alpha,
        )


def test_a_reversed_adjacent_pair_is_reported_not_dropped():
    focus = ["a", "b", "c"]
    listed = gain_pairs(focus, [("b", "a"), ("a", "b"), ("c", "a")])
    assert listed == [
        (("a", "b"), True),
        (("b", "c"), True),
        (("b", "a"), False),
        (("c", "a"), False),
    ]
    adjusted = reference_family([p for p, _ in listed], [0.01, 0.02, 0.01, 0.03], "bonferroni")
    assert adjusted == pytest.approx([0.03, 0.06, 0.03, 0.09])  # three comparisons, not four


def test_reversed_adjacent_pair_on_the_shipped_store(con):
    first = calls.gains(con, source="analysing-relations", top=2, resamples=100)
    (top,) = first
    rows = calls.gains(
        con, source="analysing-relations", top=2, resamples=100, pairs=[(top.below, top.model)]
    )
    assert len(rows) == 2 and rows[0].adjacent and not rows[1].adjacent
    mirror = rows[1]
    assert (mirror.model, mirror.below) == (top.below, top.model)
    assert mirror.delta == pytest.approx(-top.delta) and mirror.p_value == top.p_value
    assert mirror.p_adjusted == top.p_adjusted
    assert mirror.verdict == gains.REFERENCE_NEGATIVE


def test_aggregate_only_flips_and_lottery_are_labelled_independence_approximations(con):
    from lottery_tui.report.labels import IMAGE_BOOTSTRAP, INDEPENDENCE_APPROXIMATION
    from lottery_tui.report.render import report_markdown

    (timm,) = calls.gains(con, source="timm", top=2, resamples=100)
    assert all(INDEPENDENCE_APPROXIMATION in v.flip_method for v in timm.variants)
    assert all(INDEPENDENCE_APPROXIMATION in lp.method for lp in timm.lottery)
    (paired,) = calls.gains(
        con, source="analysing-relations", datasets=["imagenet-real"], top=2, resamples=100
    )
    assert [v.flip_method for v in paired.variants] == [IMAGE_BOOTSTRAP]
    assert all(lp.method == IMAGE_BOOTSTRAP for lp in paired.lottery)
    report = calls.report(con, source="timm", top=2, resamples=100)
    assert "Flip probability: parametric binomial simulation (aggregate-only); " in report_markdown(
        report
    )


def test_alpha_reaches_the_mdd_and_its_flag(con):
    """The minimum detectable difference is (z_{1-alpha/2} + z_0.8) sqrt(q/n): at alpha = 0.2
    every variant's MDD, the flag computed from it and the report's MDD table scale by the ratio
    of those z sums (scipy's normal quantiles)."""
    from scipy import stats

    def z_sum(alpha):
        return stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(0.8)

    kwargs = dict(source="analysing-relations", datasets=["imagenet-real"], top=4, resamples=100)
    strict = calls.gains(con, alpha=0.05, **kwargs)
    loose = calls.gains(con, alpha=0.2, **kwargs)
    for g5, g20 in zip(strict, loose, strict=True):
        for v5, v20 in zip(g5.variants, g20.variants, strict=True):
            assert v20.mdd == pytest.approx(v5.mdd * z_sum(0.2) / z_sum(0.05), rel=1e-9)
            assert v20.below_detectable == (abs(g20.delta) < v20.mdd)
    options = dict(source="analysing-relations", resamples=50, alpha=0.2)
    report = calls.report(con, **options)
    base = calls.report(con, source="analysing-relations", resamples=50)
    for r20, r5 in zip(report.detectable, base.detectable, strict=True):
        for q in r5.mdd:
            assert r20.mdd[q] == pytest.approx(r5.mdd[q] * z_sum(0.2) / z_sum(0.05), rel=1e-9)
    from lottery_tui.report.render import report_markdown

    assert "(80 % power, two-sided 20 %)" in report_markdown(report)
