"""Independent random streams per unit of work (issue 22): adding or removing a `--pair` or a
dataset leaves every other interval identical at a given seed."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from lottery_tui.report import service
from lottery_tui.report.context import ReportContext
from lottery_tui.report.selection import Options, Selection
from lottery_tui.report.streams import stream, unit_key

SWIN = "swin_base_patch4_window7_224"


@pytest.fixture(scope="module")
def con(shipped_db):
    connection = duckdb.connect(str(shipped_db), read_only=True)
    yield connection
    connection.close()


def drawn(gain) -> tuple:
    """What a gain's random draws decide: its intervals and flip probabilities (the adjusted
    p-values and verdicts depend on the family, which a new pair or dataset changes)."""
    return (
        (gain.model, gain.below, gain.ci_low, gain.ci_high),
        [(v.dataset, v.ci_low, v.ci_high, v.flip_probability) for v in gain.variants],
        [(lp.rule, lp.probability) for lp in gain.lottery] if len(gain.variants) == 1 else [],
    )


def test_units_have_distinct_reproducible_streams():
    assert unit_key("pair", "a", "b") == unit_key("pair", "a", "b")
    assert unit_key("pair", "a", "b") != unit_key("pair", "ab")
    same = stream(7, "images", "imagenet").random(4)
    assert (same == stream(7, "images", "imagenet").random(4)).all()
    assert not (same == stream(7, "images", "imagenet-a").random(4)).any()
    assert not (same == stream(8, "images", "imagenet").random(4)).any()


def test_adding_a_pair_leaves_every_other_gain_identical(con):
    """In a report (its context shares one joint draw over every ranked model)."""
    options = Options(resamples=300, seed=5)
    selection = Selection(source="analysing-relations", datasets=["imagenet-real"])  # ReaL: named
    ctx = ReportContext.load(con, selection, share_draws=True)
    plain = service.marginal_gains(ctx, options, top=5)
    again = ReportContext.load(con, selection, share_draws=True)
    extra = service.marginal_gains(again, options, top=5, pairs=[(SWIN, "vgg11")])
    assert len(extra) == len(plain) + 1 and not extra[-1].adjacent
    assert [drawn(g) for g in extra[:-1]] == [drawn(g) for g in plain]
    assert np.isfinite(plain[0].ci_low) and plain[0].variants  # paired intervals, compared
    report = service.build_report(con, selection, options, top=5)
    with_pair = service.build_report(con, selection, options, top=5, pairs=[(SWIN, "vgg11")])
    assert [drawn(g) for g in with_pair.marginal_gains[:-1]] == [drawn(g) for g in plain]
    assert with_pair.rank_distribution == report.rank_distribution
    assert repr(with_pair.rank_agreement) == repr(report.rank_agreement)


def test_adding_a_dataset_leaves_every_other_interval_identical(con):
    """timm is aggregate-only: each model's binomial draws on a dataset, the robustness fit
    of a target and the gains' unpaired intervals are their own units."""
    options = Options(resamples=300, seed=5)

    def ask(datasets: list[str]):
        ctx = ReportContext.load(con, Selection(datasets=datasets, source="timm"))
        gains = service.marginal_gains(ctx, options, top=6)
        fit = service.effective_robustness(ctx, "imagenet-r", options, top=6)
        return gains, fit, service.rank_distribution(ctx, options, top=6)

    gains, fit, ranks = ask(["imagenet-r"])
    more_gains, more_fit, more_ranks = ask(["imagenet-r", "imagenet-a", "imagenet-sketch"])
    for g, more in zip(gains, more_gains, strict=True):
        assert (g.ci_low, g.ci_high) == (more.ci_low, more.ci_high)
        (r,) = g.variants
        (same,) = [v for v in more.variants if v.dataset == "imagenet-r"]
        assert (r.ci_low, r.ci_high, r.flip_probability) == (
            same.ci_low,
            same.ci_high,
            same.flip_probability,
        )
    assert any(0 < v.flip_probability < 1 for g in gains for v in g.variants)
    assert fit == more_fit
    assert ranks == more_ranks


def test_the_same_seed_draws_the_same_pair_interval_in_report_and_compare(con):
    """A gain's interval on a dataset is the unit (A, B, dataset): `compare` gives the same."""
    options = Options(resamples=500, seed=2)
    ctx = ReportContext.load(con, Selection(source="analysing-relations"))
    (gain,) = service.marginal_gains(ctx, options, top=2)
    rows = service.compare(con, gain.model, gain.below, Selection(), options).rows
    val = next(r for r in rows if r.dataset == "imagenet")
    assert (val.ci_low, val.ci_high) == (gain.ci_low, gain.ci_high)
