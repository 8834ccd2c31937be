"""LabelSets' fast lookup (first label, then a search) against a plain set membership."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from lottery_tui.store.label_lookup import LabelSets
from lottery_tui.store.schema import create_schema


def label_sets(sets: dict[int, list[int]]) -> LabelSets:
    con = duckdb.connect()
    create_schema(con)
    table = pa.table(
        {
            "image_idx": pa.array(list(sets), pa.int32()),
            "labels": pa.array(list(sets.values()), pa.list_(pa.int16())),
        }
    )
    con.register("given", table)
    con.execute("INSERT INTO label_sets SELECT 'real', image_idx, labels FROM given")
    return LabelSets.load(con, "real")


def test_contains_matches_set_membership_on_random_sets() -> None:
    rng = np.random.default_rng(7)
    sets = {
        int(image): sorted({int(c) for c in rng.integers(0, 20, rng.integers(1, 5))})
        for image in rng.choice(500, 300, replace=False)
    }
    lookup = label_sets(sets)
    images = rng.choice(list(sets), 5000)
    classes = rng.integers(0, 20, 5000).astype(np.int16)
    expected = np.array([c in sets[i] for i, c in zip(images, classes, strict=True)])
    assert expected.sum() > 500 and (~expected).sum() > 500
    assert (lookup.contains(images, classes) == expected).all()


def test_a_later_label_counts_and_an_empty_set_is_not_scored() -> None:
    lookup = label_sets({0: [3], 2: [5, 9, 1], 4: []})
    images = np.array([0, 0, 2, 2, 2, 2])
    classes = np.array([3, 5, 5, 9, 1, 3], np.int16)
    assert lookup.contains(images, classes).tolist() == [True, False, True, True, True, False]
    scored = lookup.scored(np.array([-1, 0, 1, 2, 3, 4, 99]))
    assert scored.tolist() == [False, True, False, True, False, False, False]
