"""Rank agreement counts one checkpoint listed at two image sizes once, and says so."""

from __future__ import annotations

import calls
import duckdb
import pytest

from lottery_tui.store.readers import image_size_twins


@pytest.fixture(scope="module")
def con(shipped_db):
    connection = duckdb.connect(str(shipped_db), read_only=True)
    yield connection
    connection.close()


def test_twins_are_the_larger_image_size_of_one_base_name(con):
    rows = con.execute(
        "SELECT model_id, base_name, img_size FROM models WHERE source = 'timm'"
    ).fetchall()
    twins = image_size_twins(con, [r[0] for r in rows])
    smallest: dict[str, int] = {}
    for _, base, size in rows:
        smallest[base] = min(smallest.get(base, size), size)
    expected = {mid for mid, base, size in rows if size > smallest[base]}
    assert twins == expected and len(twins) > 100  # timm lists 290 weights at two sizes


def test_rank_agreement_counts_each_checkpoint_once(con):
    target = "imagenetv2-matched-frequency"
    rows = calls.agreement(con, source="timm", datasets=[target], resamples=50)
    (row,) = rows
    distinct = con.execute(
        """
        SELECT count(DISTINCT m.base_name), count(*) FROM models m
        JOIN aggregate_results a ON a.model_id = m.model_id AND a.dataset_id = 'imagenet'
        JOIN aggregate_results b ON b.model_id = m.model_id AND b.dataset_id = $t
        WHERE m.source = 'timm'
        """,
        {"t": target},
    ).fetchone()
    assert row.n_models == distinct[0] < distinct[1]
    assert f"{distinct[1] - distinct[0]} second image size(s)" in row.ci_method
    assert "independent sample" in row.ci_method
