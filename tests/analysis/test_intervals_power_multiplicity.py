"""Accuracy intervals, minimum detectable difference and multiplicity against the oracles."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from analysis.intervals import clopper_pearson, percentile, wilson
from analysis.multiplicity import adjust, intersection_union
from analysis.power import minimum_detectable_difference


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (7610, 10000, 0.752516, 0.769332),
        (6300, 10000, 0.620450, 0.639474),
        (38000, 50000, 0.756231, 0.763738),
    ],
)
def test_clopper_pearson_oracles(k, n, low, high):
    ci = clopper_pearson(k, n)
    assert (ci.low, ci.high) == pytest.approx((low, high), abs=1e-6)
    assert ci.method == "clopper-pearson"


def test_wilson_oracle():
    ci = wilson(7610, 10000)
    assert (ci.low, ci.high) == pytest.approx((0.752542, 0.769257), abs=1e-6)


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 5000), st.data())
def test_intervals_agree_with_statsmodels(n, data):
    k = data.draw(st.integers(0, n))
    cp = clopper_pearson(k, n)
    assert (cp.low, cp.high) == pytest.approx(proportion_confint(k, n, method="beta"), abs=1e-9)
    wi = wilson(k, n)
    assert (wi.low, wi.high) == pytest.approx(proportion_confint(k, n, method="wilson"), abs=1e-9)


def test_percentile_of_known_draws():
    low, high = percentile(np.arange(1001.0))
    assert (low, high) == pytest.approx((25.0, 975.0))


def test_minimum_detectable_difference_oracles():
    assert minimum_detectable_difference(50_000, 0.10) * 100 == pytest.approx(0.40, abs=0.005)
    assert minimum_detectable_difference(10_000, 0.15) * 100 == pytest.approx(1.09, abs=0.005)


def test_minimum_detectable_difference_has_the_stated_power():
    """At Delta = MDD the two-sided 5 % paired test rejects about 80 % of the time."""
    rng = np.random.default_rng(3)
    n, q = 20_000, 0.1
    delta = minimum_detectable_difference(n, q)
    p10, p01 = (q + delta) / 2, (q - delta) / 2
    draws = rng.multinomial(n, [p10, p01, 1 - q], size=4000)
    d = (draws[:, 0] - draws[:, 1]) / n
    qhat = (draws[:, 0] + draws[:, 1]) / n
    z = d / np.sqrt((qhat - d**2) / n)
    assert np.mean(np.abs(z) > 1.959964) == pytest.approx(0.80, abs=0.03)


P = [0.016, 0.019, 0.607]


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("holm", [0.048, 0.048, 0.607]),
        ("holm-sidak", [0.04724, 0.04724, 0.607]),
        ("hochberg", [0.038, 0.038, 0.607]),
        ("bh", [0.0285, 0.0285, 0.607]),
        ("bonferroni", [0.048, 0.057, 1.0]),
    ],
)
def test_multiplicity_oracles(method, expected):
    result = adjust(P, method)
    assert result.p_values == pytest.approx(expected, abs=1e-5)
    assert result.method == method


def test_default_is_holm_not_statsmodels_default():
    assert adjust(P).method == "holm"
    assert adjust(P).p_values == pytest.approx(multipletests(P, method="holm")[1])
    assert not np.allclose(adjust(P).p_values, multipletests(P)[1])


def test_nan_entries_are_left_out_of_the_family():
    result = adjust([0.01, np.nan, 0.04], "holm")
    assert np.isnan(result.p_values[1])
    assert result.p_values[[0, 2]] == pytest.approx([0.02, 0.04])


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown adjustment"):
        adjust(P, "sidak-magic")


def test_intersection_union_is_the_largest_p():
    assert intersection_union([0.01, 0.04, 0.03]) == 0.04


STATSMODELS_NAMES = {
    "holm": "holm",
    "holm-sidak": "holm-sidak",
    "hochberg": "simes-hochberg",
    "bh": "fdr_bh",
    "bonferroni": "bonferroni",
}


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=25),
    st.sampled_from(sorted(STATSMODELS_NAMES)),
)
def test_adjustments_agree_with_statsmodels(p, method):
    with np.errstate(divide="ignore"):  # statsmodels' Holm-Sidak takes log1p(-1) at p = 1
        expected = multipletests(p, method=STATSMODELS_NAMES[method])[1]
    assert adjust(p, method).p_values == pytest.approx(expected, abs=1e-12)


def test_nothing_at_run_time_imports_statsmodels():
    """statsmodels is the tests' oracle only (the `test` extra): the report and the CLI run
    without it."""
    import subprocess
    import sys

    code = (
        "import sys, lottery_tui.report.service, lottery_tui.cli.main, analysis.gains; "
        "print('statsmodels' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
