"""Ground truth for many predictions at once, as numpy lookups instead of SQL joins.

Scoring 750,000 predictions is a handful of array operations here, so an ingest appends its rows
once and never rescans them (see `predictions.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow.compute as pc

from lottery_tui.errors import InputError
from lottery_tui.store.query import first_row

NO_LABEL = -1  # a registered image without a label (and no label given with the prediction)
NOT_AN_IMAGE = -2
CLASS_SPAN = 1 << 16  # classes are SMALLINT, so image_idx * CLASS_SPAN + class is a unique key


@dataclass(frozen=True)
class ImageLabels:
    """The single label of each image of a dataset, indexed by image_idx."""

    images: str
    by_index: np.ndarray  # class, NO_LABEL or NOT_AN_IMAGE

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection, images: str) -> ImageLabels:
        rows = con.execute(
            f"SELECT image_idx, coalesce(label, {NO_LABEL}) AS label FROM images "
            "WHERE dataset_id = ?",
            [images],
        ).fetchnumpy()
        index = np.asarray(rows["image_idx"], np.int64)
        by_index = np.full(int(index.max()) + 1 if len(index) else 0, NOT_AN_IMAGE, np.int16)
        by_index[index] = rows["label"]
        return cls(images, by_index)

    def of(
        self,
        con: duckdb.DuckDBPyConnection,
        image_idx: np.ndarray,
        override: np.ndarray | None = None,
    ) -> np.ndarray:
        """Each row's label: `override` where it is >= 0, else the image's own.

        Raises InputError on the first row whose image the dataset lacks or that has no label.
        """
        if len(image_idx) and image_idx.min() >= 0 and image_idx.max() < len(self.by_index):
            labels = self.by_index[image_idx]
        else:
            inside = (image_idx >= 0) & (image_idx < len(self.by_index))
            labels = np.where(inside, self.by_index[np.where(inside, image_idx, 0)], NOT_AN_IMAGE)
        if override is not None:
            labels = np.where((override >= 0) & (labels != NOT_AN_IMAGE), override, labels)
        if labels.min(initial=0) < 0:  # one pass for the common case: every row has a label
            unknown = labels == NOT_AN_IMAGE
            if unknown.any():
                index = int(image_idx[unknown.argmax()])
                raise InputError(f"image index {index} is not an image of dataset {self.images!r}")
            index = int(image_idx[(labels == NO_LABEL).argmax()])
            row = first_row(
                con,
                "SELECT image_id FROM images WHERE dataset_id = ? AND image_idx = ?",
                [self.images, index],
            )
            raise InputError(
                f"image {row[0] if row else index} has no label in dataset {self.images}"
            )
        return labels


@dataclass(frozen=True)
class LabelSets:
    """A multi-label dataset's label sets (ReaL): which images are scored, and their classes.

    Most ReaL images have one label, so a lookup first compares with each image's first label
    and searches the sorted keys only for the misses on images with more: about 3x faster than
    searching every row.
    """

    keys: np.ndarray  # image_idx * CLASS_SPAN + class, sorted
    first: np.ndarray  # by image_idx: its first class, or NOT_AN_IMAGE where it has no set
    several: np.ndarray  # by image_idx: whether its set has more than one class

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection, dataset_id: str) -> LabelSets:
        table = con.sql(
            "SELECT image_idx, labels FROM label_sets WHERE dataset_id = ? AND len(labels) > 0",
            params=[dataset_id],
        ).to_arrow_table()
        images = table.column("image_idx").to_numpy().astype(np.int64)
        labels = table.column("labels").combine_chunks()
        parents = pc.list_parent_indices(labels).to_numpy()
        classes = pc.list_flatten(labels).to_numpy().astype(np.int64)
        lengths = pc.list_value_length(labels).to_numpy()
        size = int(images.max()) + 1 if len(images) else 0
        first = np.full(size, NOT_AN_IMAGE, np.int16)
        first[images] = classes[np.cumsum(lengths) - lengths]
        several = np.zeros(size, bool)
        several[images] = lengths > 1
        return cls(np.sort(images[parents] * CLASS_SPAN + classes), first, several)

    def scored(self, image_idx: np.ndarray) -> np.ndarray:
        """Whether each image has a label set (empty sets are not stored, so not scored)."""
        if len(image_idx) and image_idx.min() >= 0 and image_idx.max() < len(self.first):
            return self.first[image_idx] != NOT_AN_IMAGE
        inside = (image_idx >= 0) & (image_idx < len(self.first))
        return inside & (self.first[np.where(inside, image_idx, 0)] != NOT_AN_IMAGE)

    def contains(self, image_idx: np.ndarray, classes: np.ndarray) -> np.ndarray:
        """Whether each class is among its image's labels; every image must be `scored`."""
        hit = self.first[image_idx] == classes
        rest = np.flatnonzero(~hit & self.several[image_idx])
        wanted = image_idx[rest].astype(np.int64) * CLASS_SPAN + classes[rest]
        found = np.minimum(np.searchsorted(self.keys, wanted), len(self.keys) - 1)
        hit[rest] = self.keys[found] == wanted
        return hit
