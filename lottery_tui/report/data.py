"""Arrays from the store: the aggregate accuracy matrix and per-image correctness matrices.

Per-image rows of datasets built on the same images (val and ReaL) use the base dataset's
image_idx, so they are loaded into one `ImageSet` and share every bootstrap draw.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

import duckdb
import numpy as np

from analysis.bootstrap import ImageSet
from lottery_tui.errors import InputError


@dataclass
class Aggregates:
    """Models x datasets top-1 as fractions (NaN where a model has no result) and image counts."""

    models: list[str]
    datasets: list[str]
    accuracy: np.ndarray
    n_images: np.ndarray

    def column(self, dataset: str) -> np.ndarray:
        return self.accuracy[:, self.datasets.index(dataset)]

    def counts(self, dataset: str) -> np.ndarray:
        return self.n_images[:, self.datasets.index(dataset)]

    def subset(self, models: list[str]) -> Aggregates:
        position = {m: i for i, m in enumerate(self.models)}
        index = [position[m] for m in models]
        return Aggregates(models, self.datasets, self.accuracy[index], self.n_images[index])


@dataclass
class ImageData:
    """Per-image correctness of `models` on the datasets of one image set."""

    base: str
    models: list[str]
    image_set: ImageSet


def known_datasets(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """dataset id -> the dataset whose images it shares (None if its own)."""
    rows = con.execute("SELECT dataset_id, shares_images_with FROM datasets").fetchall()
    return dict(rows)


def check_datasets(con: duckdb.DuckDBPyConnection, names: list[str]) -> None:
    known = known_datasets(con)
    for name in names:
        if name not in known:
            raise InputError(
                f"--datasets: unknown dataset {name!r}; known: {', '.join(sorted(known))}"
            )


def load_aggregates(
    con: duckdb.DuckDBPyConnection,
    *,
    datasets: list[str] | None = None,
    models: str | None = None,
    source: str | None = None,
) -> Aggregates:
    """Top-1 of every (model, dataset) row of the `results` view, filtered by a model glob and
    an import source; image counts fall back to the dataset's documented size."""
    if datasets is not None:
        check_datasets(con, datasets)
    if source is not None:
        known = {r[0] for r in con.execute("SELECT DISTINCT name FROM sources").fetchall()}
        if source not in known:
            raise InputError(
                f"--source: unknown source {source!r}; known: {', '.join(sorted(known))}"
            )
    frame = con.execute(
        """
        SELECT r.model, r.dataset, r.top1, coalesce(r.n_images, d.n_images) AS n_images
        FROM results r JOIN datasets d ON d.dataset_id = r.dataset
        WHERE ($source IS NULL OR r.source = $source)
        """,
        {"source": source},
    ).df()
    if models is not None:
        frame = frame[[fnmatch.fnmatchcase(m, models) for m in frame["model"]]]
    if datasets is not None:
        frame = frame[frame["dataset"].isin(datasets)]
    if frame.empty:
        raise InputError("no results match the selection (check --models, --source, --datasets)")
    acc = frame.pivot(index="model", columns="dataset", values="top1")
    counts = frame.pivot(index="model", columns="dataset", values="n_images")
    order = list(datasets) if datasets is not None else sorted(acc.columns)
    order = [d for d in order if d in acc.columns]
    acc, counts = acc[order], counts[order]
    return Aggregates(
        models=list(acc.index),
        datasets=order,
        accuracy=acc.to_numpy(dtype=float) / 100.0,
        n_images=counts.fillna(0).to_numpy(dtype=np.int64),
    )


def per_image_models(con: duckdb.DuckDBPyConnection, dataset: str) -> set[str]:
    rows = con.execute(
        """
        SELECT DISTINCT m.name FROM image_predictions p JOIN models m USING (model_id)
        WHERE p.dataset_id = ?
        """,
        [dataset],
    ).fetchall()
    return {r[0] for r in rows}


def load_image_data(
    con: duckdb.DuckDBPyConnection, datasets: list[str], models: list[str]
) -> ImageData:
    """Correctness matrices (images x models) of `models` on `datasets`, which must share one
    image set; an image counts for a dataset when every model has a row for it there."""
    shares = known_datasets(con)
    bases = {shares.get(d) or d for d in datasets}
    if len(bases) != 1:
        raise ValueError(f"datasets {datasets} do not share one image set")
    base = bases.pop()
    ids = dict(
        con.execute(
            "SELECT name, model_id FROM models WHERE list_contains($names, name)",
            {"names": models},
        ).fetchall()
    )
    size = con.execute(
        "SELECT coalesce(max(image_idx) + 1, 0) FROM images WHERE dataset_id = ?", [base]
    ).fetchone()[0]
    column_of = {ids[m]: j for j, m in enumerate(models)}
    correct: dict[str, np.ndarray] = {}
    scored: dict[str, np.ndarray | None] = {}
    for dataset in datasets:
        rows = con.execute(
            """
            SELECT model_id, image_idx, correct FROM image_predictions
            WHERE dataset_id = $d AND list_contains($ids, model_id)
            """,
            {"d": dataset, "ids": list(ids.values())},
        ).fetchnumpy()
        image_idx = np.asarray(rows["image_idx"], dtype=np.int64)
        n = max(int(size), int(image_idx.max()) + 1 if image_idx.size else 0)
        model_ids = np.asarray(rows["model_id"], dtype=np.int64)
        lookup = np.zeros(int(model_ids.max(initial=0)) + 1, dtype=np.int64)
        for model_id, j in column_of.items():
            if model_id < lookup.size:
                lookup[model_id] = j
        cols = lookup[model_ids]
        matrix = np.zeros((n, len(models)), dtype=bool)
        matrix[image_idx, cols] = np.asarray(rows["correct"], dtype=bool)
        present = np.bincount(image_idx, minlength=n) == len(models)
        correct[dataset] = matrix & present[:, None]
        scored[dataset] = None if present.all() else present
    return ImageData(base, list(models), aligned_image_set(correct, scored))


def aligned_image_set(
    correct: dict[str, np.ndarray], scored: dict[str, np.ndarray | None]
) -> ImageSet:
    """One ImageSet from datasets of one image set whose matrices end at different image_idx
    (a dataset sharing images partly has images the other lacks): shorter ones are padded
    with unscored rows, so row k is image_idx k in every dataset."""
    n = max(c.shape[0] for c in correct.values())
    correct, scored = dict(correct), dict(scored)
    for d, matrix in correct.items():
        pad = n - matrix.shape[0]
        if pad:
            correct[d] = np.vstack([matrix, np.zeros((pad, matrix.shape[1]), dtype=bool)])
            mask = scored[d] if scored[d] is not None else np.ones(n - pad, dtype=bool)
            scored[d] = np.concatenate([mask, np.zeros(pad, dtype=bool)])
    return ImageSet(correct, scored)
