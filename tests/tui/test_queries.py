"""The explorer's SQL, checked against independent pandas/statsmodels computations."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from statsmodels.stats.proportion import proportion_confint

from lottery_tui.errors import ReadOnlyViolation
from lottery_tui.store.explore import list_datasets, results_grid, short_label
from lottery_tui.store.explore_charts import bump_ranks, models_in_scope, reference_rank
from lottery_tui.store.identity import ModelFilter
from lottery_tui.tui.queries import run_sql
from lottery_tui.tui.stats import model_detail

from .conftest import N_MODELS, model_names


@pytest.fixture
def con(small_db: Path):
    connection = duckdb.connect(str(small_db), read_only=True)
    yield connection
    connection.close()


def test_datasets_reference_first(con):
    datasets = list_datasets(con, "imagenet-sketch")
    assert datasets[0].dataset_id == "imagenet-sketch"
    assert {d.dataset_id for d in datasets} == {
        "imagenet",
        "imagenet-real",
        "imagenetv2-matched-frequency",
        "imagenet-sketch",
    }
    assert all(d.n_models == N_MODELS for d in datasets)


def test_results_grid_matches_pandas_ranks_and_deltas(con):
    datasets = list_datasets(con, "imagenet")
    grid = results_grid(con, "imagenet", datasets).table.to_pandas().set_index("model")
    raw = con.sql("SELECT model, dataset, top1 FROM results").df()
    wide = raw.pivot(index="model", columns="dataset", values="top1")
    ranks = wide.rank(ascending=False, method="min")
    for d in datasets:
        lbl = short_label(d.dataset_id)
        assert (grid[lbl].astype(float) - wide[d.dataset_id]).abs().max() < 5e-4
        assert (grid[f"{lbl} #"] == ranks[d.dataset_id].loc[grid.index]).all()
        if d.dataset_id != "imagenet":
            delta = wide[d.dataset_id] - wide["imagenet"]
            assert (grid[f"{lbl} Δ"].astype(float) - delta.loc[grid.index]).abs().max() < 1e-3
            change = ranks["imagenet"] - ranks[d.dataset_id]
            assert (grid[f"{lbl} ±#"] == change.loc[grid.index]).all()
    assert list(grid["IN #"]) == sorted(grid["IN #"])  # best on the reference first


def test_model_detail_wilson_interval_and_provenance(con):
    name = model_names()[3]
    detail = model_detail(con, name, "imagenet")
    assert detail.metadata["source"] == "synthetic"
    assert detail.metadata["sha256"] == "abc123"
    rows = {r["dataset"]: r for r in detail.per_dataset.to_pylist()}
    assert set(rows) == {d.dataset_id for d in list_datasets(con, "imagenet")}
    for row in rows.values():
        k = round(float(row["top1"]) / 100 * row["n_images"])  # images right: a count
        low, high = proportion_confint(k, row["n_images"], alpha=0.05, method="wilson")
        assert float(row["ci_low"]) == pytest.approx(100 * low, abs=0.006)
        assert float(row["ci_high"]) == pytest.approx(100 * high, abs=0.006)
    assert rows["imagenet"]["per_image"] and not rows["imagenet-sketch"]["per_image"]
    assert rows["imagenet"]["rank"] == reference_rank(con, name, "imagenet")


def test_model_detail_unknown_model(con):
    with pytest.raises(KeyError):
        model_detail(con, "no-such-model", "imagenet")


def test_bump_ranks_are_within_the_chosen_set(con):
    datasets = list_datasets(con, "imagenet")
    table = bump_ranks(con, "imagenet", datasets, 5).to_pylist()
    assert len({r["model"] for r in table}) == 5
    for idx in range(len(datasets)):
        ranks = sorted(r["rank"] for r in table if r["dataset_index"] == idx)
        assert ranks[0] == 1 and ranks[-1] <= 5
    assert [r["rank"] for r in table if r["dataset_index"] == 0] == [1, 2, 3, 4, 5]


def test_models_in_scope_lists_every_model_with_its_identity(con):
    """Every model with results, predictions or not, each mapped to SOURCE:NAME."""
    found = {shown: ref.qualified for shown, ref in models_in_scope(con, None).items()}
    assert found == {n: f"synthetic:{n}" for n in model_names()}
    assert models_in_scope(con, ModelFilter(pretraining="self-supervised")) == {}


def test_run_sql_caps_rows_and_says_so(con):
    result = run_sql(con, "SELECT * FROM range(25)", limit=10)
    assert result.table.num_rows == 10 and result.truncated
    assert result.message.startswith("10 of >10 rows")
    small = run_sql(con, "SELECT * FROM range(3)", limit=10)
    assert small.table.num_rows == 3 and not small.truncated


@pytest.mark.parametrize(
    "sql",
    ["INSERT INTO meta VALUES ('a', 'b')", "DROP TABLE models", "SELECT 1; DELETE FROM models"],
)
def test_run_sql_refuses_writes(con, sql):
    with pytest.raises(ReadOnlyViolation):
        run_sql(con, sql)
    assert con.execute("SELECT count(*) FROM models").fetchone()[0] == N_MODELS
