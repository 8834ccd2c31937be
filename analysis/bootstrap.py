"""Joint image bootstrap by weight matrix: one draw of image counts serves every model at once.

A bootstrap world resamples the n test images with replacement: W (B x n multinomial counts)
@ C (n x M correctness) gives all M models' resampled correct counts in one matrix product, and
datasets built on the same images (val and ReaL) share W, so their draws stay paired.

Images with the same correctness pattern across all columns are interchangeable, so W is drawn
directly over the P distinct patterns (counts ~ Multinomial(n, pattern frequencies)): exactly the
same distribution as drawing n image indices, with P (a few thousand) instead of n columns.
Work is chunked over B so memory stays bounded whatever the number of resamples; chunks run on
a few threads, each with its own child generator, so results depend only on the seed.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

CHUNK_BYTES = 64 * 2**20  # one chunk of W; at most THREADS chunks are alive at once
THREADS = min(4, os.cpu_count() or 1)


@dataclass
class ImageSet:
    """Datasets scored on one set of n images, with per-image correctness of the same M models.

    `scored[d]` marks the images that count for dataset d (ReaL drops images with an empty label
    set); None means all n. Accuracy in a resample is correct / scored, both resampled together;
    an unscored image never counts as correct, whatever `correct` holds for it (the resampler
    masks it, so a caller cannot forget to).
    """

    correct: dict[str, np.ndarray]
    scored: dict[str, np.ndarray | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        shapes = {c.shape for c in self.correct.values()}
        if len(shapes) != 1:
            raise ValueError(f"datasets of one image set must align on images, got shapes {shapes}")
        for name, mask in self.scored.items():
            if mask is not None and mask.shape != (self.n_images,):
                raise ValueError(
                    f"scored mask of {name} has shape {mask.shape}, not ({self.n_images},)"
                )

    @property
    def n_images(self) -> int:
        return next(iter(self.correct.values())).shape[0]

    @property
    def n_models(self) -> int:
        return next(iter(self.correct.values())).shape[1]


@dataclass(frozen=True)
class Patterns:
    """Distinct rows of the stacked 0/1 columns and how many images have each."""

    rows: np.ndarray  # P x K float32
    counts: np.ndarray  # P int64


def compress(columns: np.ndarray) -> Patterns:
    """Group images by their full 0/1 row: resampling images = resampling these patterns."""
    packed = np.packbits(np.asarray(columns, dtype=bool), axis=1)
    _, first, counts = np.unique(packed, axis=0, return_index=True, return_counts=True)
    return Patterns(np.asarray(columns[first], dtype=np.float32), counts.astype(np.int64))


# Rough costs per item (ns) on one core: a conditional binomial of numpy's multinomial at
# large n, versus one pooled image draw (uniform index, lookup, bincount). They only choose the
# split between the two exact samplers below; the distribution does not depend on them.
# Measured on the shipped val matrix (15 models, 5,544 patterns): 223 ns and 31 ns; with the
# old guess of 60 ns for an index draw the split kept 522 patterns apart instead of 246, and the
# bootstrap ran 15-20 % slower.
BINOMIAL_COST = 250.0
INDEX_COST = 30.0
POOL_BLOCK = 16  # rows per pooled bincount: 16 x ~8,700 pooled images keeps its bins in L2


@dataclass(frozen=True)
class _Sampler:
    """Exact two-stage multinomial over patterns: frequent patterns get their own category and
    the rare ones share a pool; given the pool's total r, its r images are uniform draws from
    the pool's images. The split minimises binomials (frequent) plus index draws (rare).

    The pooled draws are counted per pooled image, not per pattern: mapping each pick to its
    pattern (a random gather, a third of the sampler's time) is left to the matrix product,
    whose pooled rows repeat each rare pattern's row once per image (`design`). The sums are
    the same integers either way, exactly, in float32 (every count is far below 2**24)."""

    n: int
    probs: np.ndarray
    frequent: np.ndarray
    rare: np.ndarray
    pool: np.ndarray  # the rare pattern of each pooled image, grouped by pattern
    n_patterns: int

    @classmethod
    def for_counts(cls, counts: np.ndarray) -> _Sampler:
        n = int(counts.sum())
        order = np.argsort(-counts, kind="stable")
        pooled_after = n - np.cumsum(counts[order])  # pool size if the first k+1 stay apart
        cost = BINOMIAL_COST * np.arange(1, counts.size + 1) + INDEX_COST * pooled_after
        keep = int(np.argmin(cost)) + 1
        frequent, rare = order[:keep], order[keep:]
        pool = np.repeat(np.arange(rare.size, dtype=np.intp), counts[rare])
        probs = np.append(counts[frequent], pool.size) / n
        return cls(n, probs, frequent, rare, pool, counts.size)

    def design(self, rows: np.ndarray) -> np.ndarray:
        """The rows `draw_columns` multiplies: the frequent patterns', then one per pooled image."""
        return rows[np.concatenate([self.frequent, self.rare[self.pool]])]  # one copy

    def draw_columns(self, size: int, rng: np.random.Generator) -> np.ndarray:
        """size x (frequent + pooled images) counts: row i @ design(rows) is resample i's sums."""
        head = rng.multinomial(self.n, self.probs, size=size)
        w = np.empty((size, self.frequent.size + self.pool.size), dtype=np.float32)
        w[:, : self.frequent.size] = head[:, : self.frequent.size]
        if self.pool.size:
            w[:, self.frequent.size :] = self._pooled(head[:, self.frequent.size], rng)
        return w

    def draw(self, size: int, rng: np.random.Generator) -> np.ndarray:
        """size x patterns counts (W), folded from `draw_columns` (the same random stream)."""
        columns = self.draw_columns(size, rng)
        w = np.empty((size, self.n_patterns), dtype=np.float32)
        w[:, self.frequent] = columns[:, : self.frequent.size]
        if self.pool.size:
            starts = np.flatnonzero(np.diff(self.pool, prepend=-1))
            w[:, self.rare] = np.add.reduceat(columns[:, self.frequent.size :], starts, axis=1)
        return w

    def _pooled(self, totals: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Row i: counts over pooled images of totals[i] uniform draws from the pool."""
        k = self.pool.size
        out = np.empty((totals.size, k), dtype=np.float32)
        for start in range(0, totals.size, POOL_BLOCK):
            block = totals[start : start + POOL_BLOCK]
            picks = np.repeat(np.arange(block.size, dtype=np.intp) * k, block)  # row offsets
            picks += rng.integers(0, k, picks.size, dtype=np.uint32)
            out[start : start + block.size] = np.bincount(picks, minlength=block.size * k).reshape(
                block.size, k
            )
        return out


def _chunks(
    patterns: Patterns, resamples: int, rng: np.random.Generator, chunk: int | None
) -> list[tuple[int, np.random.Generator]]:
    """Fixed chunk sizes, each with its own child generator: the draws depend on the seed and
    the data only, not on how many threads run them."""
    rows = chunk or max(1, CHUNK_BYTES // (4 * patterns.counts.size))
    sizes = [min(rows, resamples - start) for start in range(0, resamples, rows)]
    return list(zip(sizes, rng.spawn(len(sizes)), strict=True))


def resample_accuracies(
    image_set: ImageSet, resamples: int, rng: np.random.Generator, *, chunk: int | None = None
) -> dict[str, np.ndarray]:
    """B x M resampled accuracies for every dataset of the image set, from one shared W."""
    names = list(image_set.correct)
    masks = {d: image_set.scored.get(d) for d in names}
    blocks = [
        np.asarray(image_set.correct[d], dtype=bool)
        if masks[d] is None
        else np.asarray(image_set.correct[d], dtype=bool)
        & np.asarray(masks[d], dtype=bool)[:, None]
        for d in names
    ]
    mask_cols = [d for d in names if masks[d] is not None]
    columns = np.concatenate(
        blocks + [np.asarray(masks[d], dtype=bool)[:, None] for d in mask_cols], axis=1
    )
    patterns = compress(columns)
    m = image_set.n_models
    n = image_set.n_images
    out = {d: np.empty((resamples, m), dtype=np.float64) for d in names}
    sampler = _Sampler.for_counts(patterns.counts)
    chunks = _chunks(patterns, resamples, rng, chunk)
    with ThreadPoolExecutor(max_workers=min(THREADS, len(chunks))) as workers:
        # numpy releases the GIL in its samplers and BLAS: chunks overlap on several cores
        design = sampler.design(patterns.rows)
        all_sums = workers.map(lambda job: sampler.draw_columns(*job) @ design, chunks)
    start = 0
    for sums in all_sums:
        stop = start + len(sums)
        for j, d in enumerate(names):
            correct = sums[:, j * m : (j + 1) * m].astype(np.float64)
            if masks[d] is None:
                denom = np.full((len(sums), 1), float(n))
            else:
                denom = sums[:, len(names) * m + mask_cols.index(d)][:, None].astype(np.float64)
            out[d][start:stop] = correct / np.maximum(denom, 1.0)
        start = stop
    return out


def binomial_accuracies(
    accuracy: np.ndarray, n_images: np.ndarray, resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """Aggregate-only stand-in for the image bootstrap: independent binomials at each model's
    accuracy. Ignores the positive correlation of models' errors, so rank noise is overstated."""
    acc = np.clip(np.asarray(accuracy, dtype=float), 0.0, 1.0)
    n = np.asarray(n_images, dtype=np.int64)
    return rng.binomial(n, acc, size=(resamples, *acc.shape)) / n
