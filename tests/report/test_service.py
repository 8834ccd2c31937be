"""The report adapter on the shipped store: ReaL rule, modes, JSON fields, seeds, bad input."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis.paired import PairedCounts, mcnemar
from analysis.rank_agreement import FEW_SWAPS_NOTE
from lottery_tui.errors import InputError
from lottery_tui.report import service
from lottery_tui.report.context import ReportContext
from lottery_tui.report.data import load_aggregates, load_image_data
from lottery_tui.report.render import compare_markdown, plain, report_json, report_markdown
from lottery_tui.report.selection import Options, Selection

SWIN = "swin_base_patch4_window7_224"
CONVNEXT = "convnext_tiny"


@pytest.fixture(scope="module")
def con(shipped_db):
    connection = duckdb.connect(str(shipped_db), read_only=True)
    yield connection
    connection.close()


def context(con, **selection) -> ReportContext:
    return ReportContext.load(con, Selection(**selection))


def compare(con, a, b, *, resamples=10000, alpha=0.05, **selection):
    options = Options(resamples=resamples, alpha=alpha)
    return service.compare(con, a, b, Selection(**selection), options).rows


def report(con, *, top=None, pairs=None, resamples=1000, seed=0, alpha=0.05, **selection):
    options = Options(resamples=resamples, seed=seed, alpha=alpha)
    return service.build_report(con, Selection(**selection), options, top=top, pairs=pairs)


def test_real_is_scored_on_its_labelled_images_and_paired_with_val(con):
    agg = load_aggregates(con, datasets=["imagenet", "imagenet-real"], source="analysing-relations")
    data = load_image_data(con, ["imagenet", "imagenet-real"], agg.models)
    scored = data.image_set.scored["imagenet-real"]
    assert data.image_set.n_images == 50_000
    assert scored is not None and int(scored.sum()) == 46_837
    assert data.image_set.scored["imagenet"] is None
    real = data.image_set.correct["imagenet-real"][scored].mean(axis=0)
    val = data.image_set.correct["imagenet"].mean(axis=0)
    assert real == pytest.approx(agg.column("imagenet-real"), abs=1e-9)
    assert val == pytest.approx(agg.column("imagenet"), abs=1e-9)


def test_compare_paired_rows_match_the_analysis_layer(con):
    rows = compare(con, SWIN, CONVNEXT, resamples=2000)
    assert [r.dataset for r in rows] == ["imagenet", "imagenet-real"]
    val = rows[0]
    assert val.mode == service.PAIRED and val.test == "exact McNemar"
    assert val.n_images == 50_000
    assert 0 < val.acc_b < val.acc_a < 1  # fractions, not percent
    assert val.delta == pytest.approx(val.acc_a - val.acc_b)
    assert val.p_exact == pytest.approx(mcnemar(val.n10, val.n01).p_exact)
    assert val.ci_low < val.delta < val.ci_high
    assert rows[1].n_images == 46_837
    assert all(r.adjust_method == "holm" and r.p_adjusted >= r.p_value for r in rows)
    fields = set(plain(val))
    assert {
        "dataset",
        "n_images",
        "acc_a",
        "acc_b",
        "delta",
        "n10",
        "n01",
        "p_exact",
        "p_mid",
        "ci_low",
        "ci_high",
        "p_adjusted",
        "adjust_method",
    } <= fields


def test_aggregate_only_comparison_never_uses_paired_wording(con):
    agg = load_aggregates(con, source="timm")
    a, b = agg.models[:2]
    rows = compare(con, a, b, source="timm")
    assert rows and all(r.mode == service.AGGREGATE for r in rows)
    assert all(r.n10 is None and r.p_exact is None and r.p_mid is None for r in rows)
    text = compare_markdown(a, b, rows)
    for paired_word in ("McNemar", "mid-p", "n10", service.PAIRED):
        assert paired_word not in text


def test_rank_agreement_modes_and_intervals(con):
    rows = service.rank_agreement(
        context(con, source="analysing-relations"), Options(resamples=300)
    )
    (real,) = rows
    assert real.dataset == "imagenet-real" and real.n_models == 15
    assert real.mode == service.PAIRED
    assert real.p_method == "exact null"  # 15 models, no ties
    assert real.ci_low < real.kendall_tau_b < real.ci_high
    # 15 well-separated models: image noise swaps too few pairs for a calibrated interval
    assert real.image_ci_method.startswith(f"{service.IMAGE_BOOTSTRAP}, 300 draws")
    assert np.isnan(real.image_ci_low) and FEW_SWAPS_NOTE in real.image_ci_method
    top = service.rank_agreement(
        context(con, source="timm", datasets=["imagenet-r"]), Options(resamples=200), top=10
    )
    assert top[0].n_models == 10 and top[0].mode == service.AGGREGATE
    # aggregate-only: no interval over images, saying why
    assert np.isnan(top[0].image_ci_low) and "aggregate-only" in top[0].image_ci_method


def test_marginal_gains_verdicts_and_lottery(con):
    """Known answers: Holm by statsmodels, the documented verdict rule applied to the printed
    numbers, and each flip probability against the normal approximation of the paired
    bootstrap from the stored per-image counts."""
    resamples = 4000
    gains = service.marginal_gains(
        context(con, source="analysing-relations", datasets=["imagenet-real"]),
        Options(resamples=resamples),
    )  # ReaL relabels the reference's images: a variant only when named
    assert len(gains) == 14  # 15 models: each against the next one below
    agg = load_aggregates(con, source="analysing-relations")
    acc = dict(zip(agg.models, agg.column("imagenet"), strict=True))
    holm = multipletests([g.p_value for g in gains], method="holm")[1]
    informative = 0
    for g, p_adj in zip(gains, holm, strict=True):
        assert acc[g.model] >= acc[g.below] and g.mode == service.PAIRED
        assert g.p_adjusted == pytest.approx(p_adj, rel=1e-12)
        (variant,) = g.variants
        assert variant.dataset == "imagenet-real"
        assert variant.p_adjusted == variant.p_value  # a family of one
        reversed_ = variant.p_value < 0.05 and variant.delta < 0
        if not p_adj < 0.05:
            expected = "reversed on variants" if reversed_ else "not significant on reference"
        elif reversed_:
            expected = "lottery win"
        elif variant.p_value < 0.05 and variant.delta > 0:
            expected = "real gain"
        else:
            expected = "unconfirmed"
        assert g.verdict == expected
        n10, n01, n = _discordant(con, g.model.name, g.below.name, "imagenet-real")
        assert variant.delta == pytest.approx((n10 - n01) / n)
        se = np.sqrt(((n10 + n01) / n - variant.delta**2) / n)
        flip = stats.norm.cdf(-np.sign(g.delta) * variant.delta / se)
        assert variant.flip_probability == pytest.approx(flip, abs=0.03)
        assert variant.flip_probability_se == pytest.approx(
            np.sqrt(variant.flip_probability * (1 - variant.flip_probability) / resamples)
        )
        informative += 0.05 < flip < 0.95
        assert [lp.rule for lp in g.lottery] == ["mean accuracy", "mean rank", "geometric mean"]
        mean_accuracy = g.lottery[0]
        # one variant: L = Pr*(A ahead on it) = 1 - flip, up to ties
        assert mean_accuracy.probability == pytest.approx(1 - variant.flip_probability, abs=0.01)
        assert mean_accuracy.index == pytest.approx(
            2 * min(mean_accuracy.probability, 1 - mean_accuracy.probability)
        )
    assert informative >= 1  # some flip probability is neither 0 nor 1


def _discordant(con, a: str, b: str, dataset: str) -> tuple[int, int, int]:
    return con.execute(
        """
        SELECT count(*) FILTER (a.correct AND NOT b.correct),
               count(*) FILTER (b.correct AND NOT a.correct), count(*)
        FROM predictions a JOIN predictions b USING (dataset, image_id)
        WHERE a.model = ? AND b.model = ? AND dataset = ?
        """,
        [a, b, dataset],
    ).fetchone()


def test_report_is_deterministic_for_a_seed(con):
    first = report_json(report(con, source="analysing-relations", resamples=200, seed=3))
    assert first == report_json(report(con, source="analysing-relations", resamples=200, seed=3))
    other = report(con, source="analysing-relations", resamples=200, seed=4)
    assert first != report_json(other)
    parsed = json.loads(first)
    row = parsed["rank_agreement"][0]
    assert set(row) >= {
        "dataset",
        "n_models",
        "kendall_tau_b",
        "p_value",
        "ci_low",
        "ci_high",
        "ci_method",
    }
    assert parsed["marginal_gains"]


def test_report_markdown_names_methods(con):
    text = report_markdown(report(con, source="timm", top=6, resamples=200))
    assert "atanh jackknife with Fieller floor, widened to the BCa bootstrap" in text
    assert "(1000 resamples) (over models: assumes" in text
    assert "holm" in text
    assert "McNemar" not in text  # timm rows are aggregates only
    assert "Unified cross-dataset score" in text


def test_rank_distribution_and_effective_robustness(con):
    dist = service.rank_distribution(
        context(con, source="analysing-relations"), Options(resamples=500)
    )
    assert [r.rank for r in dist.rows] == sorted(r.rank for r in dist.rows)
    for r in dist.rows:
        assert 1 <= r.rank_low <= r.rank_high <= len(dist.rows)
        assert sum(r.p_rank[r.rank_low - 1 : r.rank_high]) >= 0.95
        assert sum(r.p_rank) == pytest.approx(1.0)
        assert r.acc_ci_low < r.accuracy < r.acc_ci_high
        assert r.acc_ci_method.startswith("percentile bootstrap")
    timm = service.rank_distribution(context(con, source="timm"), Options(resamples=200), top=3)
    assert all(r.acc_ci_method.startswith("clopper-pearson") for r in timm.rows)
    fit = service.effective_robustness(context(con, source="timm"), "imagenet-r", Options())
    assert fit.n_models > 1000 and fit.slope > 0
    assert all(r.ci_low <= r.effective_robustness <= r.ci_high for r in fit.rows)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: compare(c, "no-such-model", SWIN), "no-such-model"),
        (lambda c: context(c, datasets=["imagenet-x"]), "imagenet-x"),
        (lambda c: context(c, source="nobody"), "nobody"),
        (lambda c: context(c, models="zzz*"), "no results"),
    ],
)
def test_bad_selection_is_one_clear_input_error(con, call, message):
    with pytest.raises(InputError, match=message):
        call(con)


def test_json_has_no_nan(con):
    rows = compare(con, SWIN, CONVNEXT, resamples=200)
    text = json.dumps(plain(rows))
    assert "NaN" not in text
    assert np.isfinite(rows[0].ci_low)


def test_paired_counts_come_from_the_stored_predictions(con):
    correct = con.execute(
        """
        SELECT a.correct, b.correct FROM predictions a JOIN predictions b USING (dataset, image_id)
        WHERE a.model = ? AND b.model = ? AND dataset = 'imagenet'
        """,
        [SWIN, CONVNEXT],
    ).fetchnumpy()
    counts = PairedCounts.from_correct(
        correct["correct"].astype(bool), correct["correct_1"].astype(bool)
    )
    (val, _) = compare(con, SWIN, CONVNEXT, resamples=200)
    assert (val.n10, val.n01) == (counts.n10, counts.n01)


def test_a_selection_too_small_for_some_statistics_still_reports(con):
    small = report(con, models="resnet5*", source="analysing-relations", resamples=100)
    assert small.rank_agreement == [] and small.effective_robustness == []
    assert small.marginal_gains == []
    assert "No other dataset has results for at least 3" in report_markdown(small)
    with pytest.raises(InputError, match="at least 3 models"):
        service.effective_robustness(
            context(con, models="resnet5*", source="analysing-relations"),
            "imagenet-real",
            Options(),
        )


def test_a_variant_interval_is_the_paired_interval_of_that_dataset(con):
    """The per-variant interval of a gain is A vs B's paired interval on that variant: it agrees
    with the Wald interval from the stored per-image counts up to bootstrap noise."""
    (gain,) = service.marginal_gains(
        context(con, source="analysing-relations", datasets=["imagenet-real"]),
        Options(resamples=4000),
        top=1,
        pairs=[(SWIN, CONVNEXT)],
    )
    (real,) = gain.variants
    counts = con.execute(
        """
        SELECT count(*) FILTER (a.correct AND NOT b.correct),
               count(*) FILTER (b.correct AND NOT a.correct), count(*)
        FROM predictions a JOIN predictions b USING (dataset, image_id)
        WHERE a.model = ? AND b.model = ? AND dataset = 'imagenet-real'
        """,
        [SWIN, CONVNEXT],
    ).fetchone()
    n10, n01, n = counts
    delta = (n10 - n01) / n
    half = 1.959964 * np.sqrt(((n10 + n01) / n - delta**2) / n)
    assert real.delta == pytest.approx(delta)
    assert real.ci_low == pytest.approx(delta - half, abs=0.1 * half)
    assert real.ci_high == pytest.approx(delta + half, abs=0.1 * half)


def test_a_pair_equal_to_an_adjacent_gain_is_listed_and_counted_once(con):
    ctx = context(con, source="analysing-relations")
    plain_gains = service.marginal_gains(ctx, Options(resamples=200), top=4)
    adjacent = [(g.model.name, g.below.name) for g in plain_gains]
    assert adjacent == [
        (SWIN, "efficientnet_b4"),
        ("efficientnet_b4", CONVNEXT),
        (CONVNEXT, "convit_small"),
    ]
    for pair, listed in [
        ((SWIN, "efficientnet_b4"), adjacent),
        (("efficientnet_b4", SWIN), [*adjacent, ("efficientnet_b4", SWIN)]),  # reported
    ]:
        again = service.marginal_gains(ctx, Options(resamples=200), top=4, pairs=[pair, pair])
        assert [(g.model.name, g.below.name) for g in again] == listed
        assert [g.p_adjusted for g in again][:3] == [g.p_adjusted for g in plain_gains]
        if len(listed) > 3:  # the mirror of the first gain: one test, counted once
            assert again[3].p_adjusted == again[0].p_adjusted
        smallest = min(g.p_value for g in again)
        assert min(g.p_adjusted for g in again) == pytest.approx(min(1.0, 3 * smallest))
        assert [g.adjacent for g in again] == [True] * 3 + [False] * (len(listed) - 3)
    extra = service.marginal_gains(ctx, Options(resamples=200), top=4, pairs=[(SWIN, "vgg11")])
    assert [g.adjacent for g in extra] == [True, True, True, False]
    smallest = min(g.p_value for g in extra)  # Holm: the family has four members now
    assert min(g.p_adjusted for g in extra) == pytest.approx(min(1.0, 4 * smallest))


def test_a_pair_worse_on_the_reference_is_reported_as_such(con):
    (gain,) = service.marginal_gains(
        context(con, source="analysing-relations"),
        Options(resamples=200),
        top=1,
        pairs=[("resnet50", SWIN)],
    )
    assert gain.delta < 0 and gain.p_adjusted < 0.05
    assert gain.verdict == "reference gain negative"
    assert gain.better_on_reference.name == SWIN and not gain.adjacent


def test_a_pair_of_one_model_is_an_input_error(con):
    with pytest.raises(InputError, match="compared with itself"):
        service.marginal_gains(
            context(con, source="analysing-relations"), Options(), pairs=[(SWIN, SWIN)]
        )


@pytest.mark.parametrize(
    "asked",
    [
        {"source": "timm", "resamples": 100},
        {"source": "analysing-relations", "resamples": 100, "pairs": [("resnet50", SWIN)]},
    ],
)
def test_report_markdown_shape_summary_first_and_narrow_tables(con, asked):
    built = report(con, **asked)
    text = report_markdown(built)
    sections = [line for line in text.splitlines() if line.startswith("## ")]
    assert sections[:2] == ["## Summary", "## Rank agreement with the reference"]
    assert built.summary.text() in " ".join(text.split())  # prose wraps at 100
    tables = [line for line in text.splitlines() if line.startswith("|")]
    assert tables and max(len(line) for line in tables) <= 100
    header = " ".join(text.split("\n\n")[1].split())
    assert f"cover the top {len(built.focus)} of them" in header and "top all" not in header
    parsed = json.loads(report_json(built))
    assert parsed["summary"]["verdicts"] == built.summary.verdicts
    assert parsed["summary"]["adjacent_pairs"] == len(built.focus) - 1


def test_interval_labels_follow_alpha(con):
    text = report_markdown(report(con, source="analysing-relations", resamples=100, alpha=0.1))
    assert "90% CI over models" in text and "90% CI (pp)" in text and "90% rank interval" in text
    assert "95%" not in text
    default = report_markdown(report(con, source="analysing-relations", resamples=100))
    assert "95% CI over models" in default and "90%" not in default
    rows = compare(con, SWIN, CONVNEXT, resamples=200, alpha=0.1)
    assert "90% CI (pp)" in compare_markdown(SWIN, CONVNEXT, rows, alpha=0.1)


def test_a_report_says_when_its_models_mix_protocols(con):
    """The testbed's self-supervised models are linear probes and fine-tuned ones: the report
    says so, with the store's counts; one protocol alone draws no such note."""
    mixed = report(con, source="imagenet-testbed", pretraining="self-supervised", resamples=50)
    (note,) = [n for n in mixed.notes if "mix evaluation protocols" in n]
    ids = [r.model_id for r in mixed.focus]
    counts = dict(
        con.execute(
            "SELECT protocol, count(*) FROM models WHERE list_contains(?, model_id) "
            "AND protocol <> 'unknown' GROUP BY protocol",
            [ids],
        ).fetchall()
    )
    assert len(counts) >= 2
    for protocol, n in counts.items():
        assert f"{protocol} ({n})" in note
    single = report(con, source="imagenet-testbed", protocol="linear-probe", resamples=50)
    assert not [n for n in single.notes if "mix evaluation protocols" in n]
