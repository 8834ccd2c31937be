"""Each figure kind's structure (labels, markers, the CD bar, label placement), not its pixels."""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter

import matplotlib
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.text import Text

from analysis import friedman as friedman_test
from analysis import gains as rule
from analysis import robustness
from lottery_tui.errors import InputError
from lottery_tui.figures import KINDS, make_figure
from lottery_tui.figures.bump import block_ranks, spread
from lottery_tui.figures.cd import cliques
from lottery_tui.figures.scatter import points


def unwrapped(text: str) -> str:
    """A drawn label with its line breaks (and the spaces wrapping removed) taken out."""
    return "".join(text.split())


def texts(figure) -> list[str]:
    return [t.get_text() for t in figure.findobj(Text) if t.get_text()]


def by_gid(figure, gid: str) -> list:
    return [a for a in figure.findobj() if a.get_gid() == gid]


def test_tau_names_statistic_level_methods_and_every_dataset(shipped_report) -> None:
    report, _ = shipped_report
    figure = make_figure(report, "tau")
    ax = figure.axes[0]
    assert "Kendall tau-b" in ax.get_xlabel() and "imagenet" in ax.get_xlabel()
    assert "95%" in ax.get_title()
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == [f"{r.dataset} (n = {r.n_models})" for r in report.rank_agreement]
    legend = " ".join(t.get_text() for t in figure.legends[0].get_texts()).replace("\n", " ")
    assert "95% CI over models" in legend
    assert report.rank_agreement[0].ci_method.split()[0] in legend


def test_gains_marks_every_row_outcome_verdict_and_adjustment(shipped_report) -> None:
    report, _ = shipped_report
    figure = make_figure(report, "gains")
    title = figure.axes[0].get_title().replace("\n", " ")
    assert "p adjusted by holm" in title and "95% intervals" in title
    gains = report.marginal_gains
    counts = {
        a.get_gid(): len(a.get_xdata())
        for a in figure.findobj()
        if str(a.get_gid()).startswith("gain-") and a.get_gid() != "gain-header"
    }
    expected = Counter(
        ["gain-reference"] * len(gains) + [f"gain-{v.outcome}" for g in gains for v in g.variants]
    )
    assert {gid: n for gid, n in counts.items() if n} == dict(expected)
    assert sum(counts.values()) == sum(1 + len(g.variants) for g in gains)
    headers = [unwrapped(t.get_text()) for t in by_gid(figure, "gain-header")]
    names = report.names()
    assert headers == [
        unwrapped(f"{names[g.model]} − {names[g.below]}: {g.verdict}") for g in gains
    ]
    legend = {t.get_text() for t in figure.legends[0].get_texts()}
    assert {rule.HOLDS, rule.REVERSES, rule.INCONCLUSIVE} <= legend


def test_scatter_draws_one_marker_per_model_on_logit_axes(shipped_report) -> None:
    report, population = shipped_report
    fit = report.effective_robustness[0]
    figure = make_figure(report, "scatter", population=population)
    ax = figure.axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "logit"
    [rest] = by_gid(figure, "scatter-population")
    [top] = by_gid(figure, "scatter-focus")
    assert isinstance(rest, PathCollection) and isinstance(top, PathCollection)
    both = ~np.isnan(population.column(fit.reference)) & ~np.isnan(population.column(fit.target))
    assert len(rest.get_offsets()) + len(top.get_offsets()) == both.sum() == fit.n_models
    assert len(top.get_offsets()) == len(report.focus)
    _, xy = points(report, population, fit.reference, fit.target)
    drawn = np.concatenate([rest.get_offsets(), top.get_offsets()])
    assert sorted(map(tuple, drawn)) == sorted(map(tuple, xy))
    assert "logit scale" in ax.get_xlabel() and fit.target in ax.get_ylabel()


def test_scatter_band_is_the_fits_bootstrap_and_holds_the_line(shipped_report) -> None:
    report, population = shipped_report
    fit = report.effective_robustness[0]
    _, xy = points(report, population, fit.reference, fit.target)
    grid = np.linspace(xy[:, 0].min(), xy[:, 0].max(), 7)
    low, high = robustness.line_band(
        xy[:, 0], xy[:, 1], grid, np.random.default_rng(5), resamples=300, alpha=0.1
    )
    # the same band by hand: a least-squares line per resampled model set
    rng = np.random.default_rng(5)
    x, y = (np.log(v / (1 - v)) for v in np.clip(xy.T, 1e-6, 1 - 1e-6))
    lines = []
    for _ in range(300):
        pick = rng.integers(0, x.size, size=x.size)
        slope, intercept = np.polyfit(x[pick], y[pick], 1)
        lines.append(1 / (1 + np.exp(-(intercept + slope * np.log(grid / (1 - grid))))))
    expected_low, expected_high = np.quantile(np.array(lines), [0.05, 0.95], axis=0)
    np.testing.assert_allclose(low, expected_low, rtol=1e-6)
    np.testing.assert_allclose(high, expected_high, rtol=1e-6)
    line = 1 / (1 + np.exp(-(fit.intercept + fit.slope * np.log(grid / (1 - grid)))))
    assert np.all(low <= line) and np.all(line <= high)


def test_scatter_names_an_unknown_target(shipped_report) -> None:
    report, population = shipped_report
    with pytest.raises(InputError, match="--target: no effective-robustness fit on 'nope'"):
        make_figure(report, "scatter", population=population, target="nope")


def test_cd_bar_is_the_nemenyi_cd_of_the_population(shipped_report) -> None:
    report, population = shipped_report
    fr = report.friedman
    scores = np.stack([population.subset(fr.models).column(d) for d in fr.datasets])
    expected = friedman_test.friedman(scores, alpha=fr.alpha)
    k, n = len(fr.models), len(fr.datasets)
    # Demsar (2006), Table 5a: q_0.05 for k = 8 models is 3.031
    assert k == 8 and friedman_test.nemenyi_q(k, 0.05) == pytest.approx(3.031, abs=5e-4)
    assert expected.critical_difference == pytest.approx(
        3.031 * np.sqrt(k * (k + 1) / (6 * n)), abs=1e-3
    )
    figure = make_figure(report, "cd")
    [bar] = by_gid(figure, "cd-bar")
    (x0, _), (x1, _) = bar.get_segments()[0]
    assert x1 - x0 == pytest.approx(expected.critical_difference, rel=1e-12)
    names = [unwrapped(t.get_text()) for t in by_gid(figure, "cd-name")]
    assert sorted(names) == sorted(
        unwrapped(f"{report.names()[m]} ({r:.2f})")
        for m, r in zip(fr.models, fr.mean_ranks, strict=True)
    )
    assert any(
        f"CD = {expected.critical_difference:.3f} (Nemenyi, alpha = 0.05" in t
        for t in texts(figure)
    )


def test_cliques_join_models_closer_than_the_cd() -> None:
    ranks = np.array([1.0, 1.5, 3.0, 3.2, 6.0])
    assert cliques(ranks, cd=1.0) == [(0, 1), (2, 3)]
    assert cliques(ranks, cd=2.5) == [(0, 3)]
    assert cliques(ranks, cd=0.1) == []


def overlapping(figure, gid: str) -> list[tuple[str, str]]:
    renderer = figure.canvas.get_renderer()
    labels = by_gid(figure, gid)
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in labels]
    return [(a, b) for (a, ba), (b, bb) in itertools.combinations(boxes, 2) if ba.overlaps(bb)]


def test_bump_ranks_match_the_friedman_mean_ranks(shipped_report) -> None:
    report, population = shipped_report
    datasets, ranks = block_ranks(report, population)
    assert datasets[0] == "imagenet" and sorted(datasets) == sorted(report.friedman.datasets)
    np.testing.assert_allclose(ranks.mean(axis=1), report.friedman.mean_ranks)


def test_bump_labels_never_overlap(shipped_report) -> None:
    report, population = shipped_report
    for width in ("single", "double"):
        figure = make_figure(report, "bump", width, population=population)
        figure.canvas.draw()
        assert len(by_gid(figure, "bump-label")) == len(report.friedman.models)
        assert overlapping(figure, "bump-label") == []


def test_bump_labels_never_overlap_when_every_model_ties(shipped_report) -> None:
    """All models equal on the last dataset: every label wants the same place."""
    report, population = shipped_report
    last = block_ranks(report, population)[0][-1]
    accuracy = population.accuracy.copy()
    accuracy[:, population.datasets.index(last)] = 0.5
    tied = dataclasses.replace(population, accuracy=accuracy)
    figure = make_figure(report, "bump", population=tied)
    figure.canvas.draw()
    assert overlapping(figure, "bump-label") == []


def test_spread_keeps_order_and_gaps() -> None:
    wanted = np.array([3.0, 1.0, 1.0, 1.0, 7.0])
    heights = np.ones(5)
    placed = spread(wanted, heights)
    order = np.argsort(placed)
    assert np.all(np.diff(placed[order]) >= 1 - 1e-12)
    assert list(order) == [1, 2, 3, 0, 4]
    np.testing.assert_array_equal(spread(np.array([1.0, 5.0]), np.ones(2)), [1.0, 5.0])


def test_ranks_shows_intervals_level_and_method(shipped_report) -> None:
    report, _ = shipped_report
    dist = report.rank_distribution
    figure = make_figure(report, "ranks")
    ax = figure.axes[0]
    title = ax.get_title().replace("\n", " ")
    assert "95% intervals" in title and f"{dist.resamples} resamples" in title
    assert dist.method.split()[0] in title
    names = report.names()
    assert [unwrapped(t.get_text()) for t in ax.get_yticklabels()] == [
        names[r.model] for r in dist.rows
    ]
    [expected] = by_gid(figure, "ranks-expected")
    np.testing.assert_allclose(expected.get_xdata(), [r.expected_rank for r in dist.rows])


def test_every_kind_draws_and_leaves_global_settings_alone(shipped_report) -> None:
    report, population = shipped_report
    before = dict(matplotlib.rcParams)
    for kind in KINDS:
        figure = make_figure(report, kind, "double", population=population)
        assert figure.get_size_inches()[0] == pytest.approx(7.0)
    assert dict(matplotlib.rcParams) == before


def test_unknown_kind_width_and_missing_population_are_input_errors(shipped_report) -> None:
    report, _ = shipped_report
    with pytest.raises(InputError, match="unknown figure kind 'pie'"):
        make_figure(report, "pie")
    with pytest.raises(InputError, match="unknown width 'wide'"):
        make_figure(report, "tau", "wide")
    with pytest.raises(InputError, match="figure 'bump' draws every selected model"):
        make_figure(report, "bump")


def test_an_api_object_holding_the_report_is_accepted(shipped_report) -> None:
    report, population = shipped_report

    @dataclasses.dataclass
    class Wrapped:
        data: object
        population: object

    figure = make_figure(Wrapped(report, population), "scatter")
    assert by_gid(figure, "scatter-population")
    with pytest.raises(TypeError, match="expected a Report"):
        make_figure(object(), "tau")
