"""One load per report: the selection once, each dataset's per-image rows at most once, and only
the identities asked for (issue 13, item 10)."""

from __future__ import annotations

import duckdb
import pytest

from lottery_tui.report import service
from lottery_tui.report.context import ReportContext
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
    options = service.ReportOptions(source="analysing-relations", resamples=50)
    report = service.build_report(con, options)
    assert report.rank_agreement and report.marginal_gains and report.rank_distribution
    assert len(reads["aggregate_rows"]) == 1
    datasets = [dataset for dataset, _ in reads["correctness"]]
    assert sorted(datasets) == ["imagenet", "imagenet-real"]  # once each
    wanted = selected_ids(con, "analysing-relations")
    assert all(set(ids) <= wanted for _, ids in reads["correctness"])


def test_timm_report_reads_no_per_image_rows(con, reads):
    service.build_report(con, service.ReportOptions(source="timm", top=5, resamples=20))
    assert len(reads["aggregate_rows"]) == 1
    assert reads["correctness"] == []  # timm's models have no per-image predictions


def test_compare_reads_the_two_models_only(con, reads):
    # the shipped testbed has a resnet50 and a vgg11 too: name the source
    service.compare(con, "analysing-relations:resnet50", "analysing-relations:vgg11", resamples=100)
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


def test_a_shared_context_gives_the_same_answers_as_separate_loads(con):
    context = ReportContext.load(con, "imagenet", None, None, "analysing-relations")
    common = {"source": "analysing-relations", "resamples": 50, "seed": 3}
    shared = service.rank_agreement(con, context=context, **common)
    alone = service.rank_agreement(con, **common)
    # repr, not ==: a withheld interval is NaN, and NaN != NaN would fail equal rows
    assert repr(shared) == repr(alone)
    assert any(row.image_ci_method for row in shared)
    assert service.rank_distribution(con, context=context, **common) == (
        service.rank_distribution(con, **common)
    )
