"""Arrays from the store: the aggregate accuracy matrix and per-image correctness matrices.

Models are identities (`lottery_tui.store.identity.ModelRef`) from the store to the output:
rows carry them, every read goes by model id, and the text shown for them is made once, when a
report is written (`display_names`). Per-image rows of datasets built on the same images (val
and ReaL) use the base dataset's image_idx, so they are loaded into one `ImageSet` and share
every draw.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np

from analysis.bootstrap import ImageSet
from lottery_tui.errors import InputError
from lottery_tui.store import readers
from lottery_tui.store.identity import ModelRef, resolve_among, select_models


@dataclass
class Aggregates:
    """Models x datasets top-1 as fractions (NaN where a model has no result) and image counts;
    `models` are the identities, listed by `ModelRef.key` (display names are made from them when
    output is written: `identity.display_names`)."""

    models: list[ModelRef]
    datasets: list[str]
    accuracy: np.ndarray
    n_images: np.ndarray
    roles: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # (role, of what)
    position: dict[ModelRef, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.position = {m: i for i, m in enumerate(self.models)}

    def column(self, dataset: str) -> np.ndarray:
        return self.accuracy[:, self.datasets.index(dataset)]

    def counts(self, dataset: str) -> np.ndarray:
        return self.n_images[:, self.datasets.index(dataset)]

    def subset(self, models: list[ModelRef]) -> Aggregates:
        index = [self.position[m] for m in models]
        return Aggregates(
            models, self.datasets, self.accuracy[index], self.n_images[index], self.roles
        )

    def find(self, spec: str | ModelRef) -> ModelRef:
        """The selected identity `spec` is or names (`SOURCE:NAME`, or a name one selected
        source has); InputError otherwise."""
        if isinstance(spec, ModelRef):
            if spec not in self.position:
                raise InputError(f"no model {spec.qualified!r} selected")
            return spec
        return resolve_among(self.models, spec)


@dataclass
class ImageData:
    """Per-image correctness of `models` on the datasets of one image set."""

    base: str
    models: list[ModelRef]
    image_set: ImageSet


def known_datasets(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """dataset id -> the dataset whose images it shares (None if its own)."""
    return readers.dataset_sharing(con)


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
    refs: list[ModelRef] | None = None,
    pretraining: str | None = None,
    protocol: str | None = None,
) -> Aggregates:
    """Top-1 of every result of the selected identities: `refs` when given, else those from
    `source` with the given tags matching the glob `models` (see `select_models`); image counts
    fall back to the dataset's documented size."""
    if datasets is not None:
        check_datasets(con, datasets)
    chosen = refs
    if chosen is None:
        chosen = select_models(
            con, source=source, pattern=models, pretraining=pretraining, protocol=protocol
        )
    by_id = {ref.model_id: ref for ref in chosen}
    frame = readers.aggregate_rows(con, list(by_id))
    if datasets is not None:
        frame = frame[frame["dataset"].isin(datasets)]
    if frame.empty:
        raise InputError(
            "no results match the selection "
            "(check --models, --source, --pretraining, --protocol, --datasets)"
        )
    acc = frame.pivot(index="model_id", columns="dataset", values="top1")
    counts = frame.pivot(index="model_id", columns="dataset", values="n_images")
    order = list(datasets) if datasets is not None else sorted(acc.columns)
    order = [d for d in order if d in acc.columns]
    ids = sorted(acc.index, key=lambda i: by_id[i].key)
    acc, counts = acc.loc[ids, order], counts.loc[ids, order]
    return Aggregates(
        models=[by_id[i] for i in ids],
        datasets=order,
        accuracy=acc.to_numpy(dtype=float) / 100.0,
        n_images=counts.fillna(0).to_numpy(dtype=np.int64),
        roles=readers.dataset_roles(con),
    )


def load_image_data(
    con: duckdb.DuckDBPyConnection, datasets: list[str], models: list[ModelRef]
) -> ImageData:
    """Correctness matrices (images x models) of `models` on `datasets`, which must share one
    image set; an image counts for a dataset when every model has a row for it there."""
    shares = known_datasets(con)
    bases = {shares.get(d) or d for d in datasets}
    if len(bases) != 1:
        raise ValueError(f"datasets {datasets} do not share one image set")
    base = bases.pop()
    size = readers.image_count(con, base)
    ids = [ref.model_id for ref in models]
    if len(set(ids)) != len(ids):  # a row finds its column by the model id's first position
        raise ValueError(f"model ids {ids} repeat one")
    correct: dict[str, np.ndarray] = {}
    scored: dict[str, np.ndarray | None] = {}
    for dataset in datasets:
        columns, image_idx, hits = readers.correctness(con, dataset, ids)
        n = max(size, int(image_idx.max()) + 1 if image_idx.size else 0)
        # one flat scatter of 1 (wrong) or 2 (right): 0 left where a model has no row
        outcome = np.zeros((n, len(models)), dtype=np.uint8)
        flat = image_idx.astype(np.intp) * len(models)
        flat += columns
        outcome.ravel()[flat] = hits.view(np.uint8) + 1
        present = outcome.all(axis=1)
        correct[dataset] = (outcome == 2) & present[:, None]
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
