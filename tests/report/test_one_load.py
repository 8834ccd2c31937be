"""One load per report: the selection once, each dataset's per-image rows at most once, and only
the identities asked for (issue 13, item 10)."""

from __future__ import annotations

import duckdb
import pytest

from lottery_tui.report import service
from lottery_tui.report.context import ReportContext
from lottery_tui.report.selection import Options, Selection
from lottery_tui.store import readers


@pytest.fixture(scope="module")
def con(shipped_db):
    connection = duckdb.connect(str(shipped_db), read_only=True)
    yield connection
    connection.close()


@pytest.fixture
def reads(monkeypatch) -> dict[str, list]:
    """Every call of the store reads the report makes, with the model ids it asked for."""
    calls: dict[str, list] = {"aggregate_rows": [], "correctness": []}
    for name in calls:
        real = getattr(readers, name)

        def counted(con, *args, _real=real, _name=name):
            calls[_name].append(args)
            return _real(con, *args)

        monkeypatch.setattr(readers, name, counted)
    return calls


def selected_ids(con, source: str) -> set[int]:
    rows = con.execute("SELECT model_id FROM models WHERE source = ?", [source]).fetchall()
    return {row[0] for row in rows}


def test_report_loads_selection_and_per_image_data_once(con, reads):
    selection = Selection(source="analysing-relations")
    report = service.build_report(con, selection, Options(resamples=50))
    assert report.rank_agreement and report.marginal_gains and report.rank_distribution
    assert len(reads["aggregate_rows"]) == 1
    datasets = [dataset for dataset, _ in reads["correctness"]]
    assert sorted(datasets) == ["imagenet", "imagenet-real"]  # once each
    wanted = selected_ids(con, "analysing-relations")
    assert all(set(ids) <= wanted for _, ids in reads["correctness"])


def test_timm_report_reads_no_per_image_rows(con, reads):
    service.build_report(con, Selection(source="timm"), Options(resamples=20), top=5)
    assert len(reads["aggregate_rows"]) == 1
    assert reads["correctness"] == []  # timm's models have no per-image predictions


def test_compare_reads_the_two_models_only(con, reads):
    # the shipped testbed has a resnet50 and a vgg11 too: name the source
    a, b = "analysing-relations:resnet50", "analysing-relations:vgg11"
    service.compare(con, a, b, Selection(), Options(resamples=100))
    ids = {
        row[0]
        for row in con.execute(
            "SELECT model_id FROM models WHERE name IN ('resnet50', 'vgg11') "
            "AND source = 'analysing-relations'"
        ).fetchall()
    }
    assert len(ids) == 2
    assert [set(args[0]) for args in reads["aggregate_rows"]] == [ids]
    assert sorted(d for d, _ in reads["correctness"]) == ["imagenet", "imagenet-real"]
    assert all(set(model_ids) == ids for _, model_ids in reads["correctness"])


def test_a_question_asked_alone_keeps_every_filter(con):
    """The explorer's and the API's questions take the loaded context: the pretraining and
    protocol filters reach rank agreement, gains and rank distributions alike (issue 22)."""
    tags = con.execute(
        "SELECT pretraining, count(*) AS n FROM models WHERE source = 'timm' "
        "GROUP BY 1 ORDER BY n DESC"
    ).fetchall()
    pretraining = tags[-1][0]  # the rarest tag: the filtered selection is much smaller
    wanted = {
        row[0]
        for row in con.execute(
            "SELECT model FROM results WHERE source = 'timm' AND pretraining = ? "
            "AND dataset = 'imagenet'",
            [pretraining],
        ).fetchall()
    }
    everyone = ReportContext.load(con, Selection(source="timm"))
    ctx = ReportContext.load(con, Selection(source="timm", pretraining=pretraining))
    assert {m.name for m in ctx.ranked} == wanted and len(wanted) < len(everyone.ranked)
    options = Options(resamples=20)
    for row in service.rank_agreement(ctx, options):
        assert row.n_models <= len(wanted)
    gains = service.marginal_gains(ctx, options, top=5)
    assert {m.name for g in gains for m in (g.model, g.below)} <= wanted
    assert {r.model.name for r in service.rank_distribution(ctx, options).rows} <= wanted


def test_a_shared_context_gives_the_same_answers_as_separate_loads(con):
    """The report's one joint draw is sliced per question: what a question answers does not
    depend on which questions asked the shared context before it."""
    selection, options = Selection(source="analysing-relations"), Options(resamples=50, seed=3)
    shared = ReportContext.load(con, selection, share_draws=True)
    gains = service.marginal_gains(shared, options, top=6)
    agreement = service.rank_agreement(shared, options)
    distribution = service.rank_distribution(shared, options)
    assert len(shared.draws_cache) == 1  # val and ReaL: one image set, drawn once

    def alone(con, selection):
        return ReportContext.load(con, selection, share_draws=True)

    # repr, not ==: a withheld interval is NaN, and NaN != NaN would fail equal rows
    assert repr(agreement) == repr(service.rank_agreement(alone(con, selection), options))
    assert any(row.image_ci_method for row in agreement)
    assert distribution == service.rank_distribution(alone(con, selection), options)
    assert repr(gains) == repr(service.marginal_gains(alone(con, selection), options, top=6))
