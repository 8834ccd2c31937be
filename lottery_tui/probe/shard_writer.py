"""A run's Parquet shards of per-image predictions (`shards/predictions-<dataset>-<k>.parquet`,
the ImageNet val run's R/A-clean shards in `shards/derived/`), and the scores read back from them.

Each shard is written atomically and carries its run id, model and name in its metadata, so every
shard is distinct bytes (its sha256 is the ingest key).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch

from lottery_tui.probe.cache import Chunk
from lottery_tui.probe.contract import SHARDS_DIR, JobSpec
from lottery_tui.probe.datasets import CLEAN_SUBSETS, DatasetListing, ImageItem, subset_indices
from lottery_tui.probe.files import sha256_file, write_atomic
from lottery_tui.probe.head_builder import Head
from lottery_tui.probe.result import DerivedScore, ShardEntry


class ShardWriter:
    """Writes and scores one run's shards."""

    def __init__(self, run_dir: Path, spec: JobSpec, listing: DatasetListing) -> None:
        self.run_dir = run_dir
        self.spec = spec
        self.listing = listing
        self.dir = run_dir / SHARDS_DIR

    def path(self, k: int, derived: str | None = None) -> Path:
        """`shards/predictions-<dataset>-<k>.parquet`; derived datasets' shards in
        `shards/derived/`, out of the way of a glob for the run's own."""
        if derived is None:
            return self.dir / f"predictions-{self.spec.dataset}-{k:05d}.parquet"
        return self.dir / "derived" / f"predictions-{derived}-{k:05d}.parquet"

    def derived(self, head: Head) -> dict[str, list[int]]:
        """Datasets scored from this run's logits too: ImageNet val on the R / A classes (for
        k-NN, only where the train folder has images of those classes)."""
        if self.spec.dataset != "imagenet":
            return {}
        subsets = {clean: list(subset_indices(s)) for clean, s in CLEAN_SUBSETS.items()}
        return {clean: classes for clean, classes in subsets.items() if head.covers(classes)}

    def write(self, k: int, start: int, chunk: Chunk, head: Head, device: torch.device) -> None:
        """The chunk's shard, after those of the datasets derived from it (so resume can test
        the main shard alone)."""
        items = [self.listing.items[start + p] for p in chunk.kept]
        features = chunk.features.to(device)
        for dataset, classes in self.derived(head).items():
            allowed = set(classes)
            rows = [j for j, item in enumerate(items) if item.label in allowed]
            if rows:
                self.path(k, dataset).parent.mkdir(exist_ok=True)
                top5 = head.top5(features[torch.tensor(rows, device=device)], classes)
                self._write_table(self.path(k, dataset), [items[j] for j in rows], top5, {})

        def named(pairs: list[tuple[int, str]]) -> str:
            return json.dumps(
                [
                    {"image_id": self.listing.items[start + p].image_id, "reason": r}
                    for p, r in pairs
                ]
            )

        meta = {"skipped": named(chunk.skipped), "fallback_decoded": named(chunk.notes)}
        top5 = head.top5(features, self.listing.classes)
        self._write_table(self.path(k), items, top5, meta)

    def _write_table(
        self, path: Path, items: list[ImageItem], top5: list[list[int]], meta: dict[str, str]
    ) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        labels = [item.label for item in items]
        preds = [row[0] for row in top5]
        table = pa.table(
            {
                "image_id": pa.array([item.image_id for item in items], pa.string()),
                "label": pa.array(labels, pa.int16()),
                "pred": pa.array(preds, pa.int16()),
                "top5": pa.array(top5, pa.list_(pa.int16())),
                "correct": pa.array(
                    [p == y for p, y in zip(preds, labels, strict=True)], pa.bool_()
                ),
            }
        )
        # Run id and shard name make every shard distinct bytes (its sha256 is the ingest key).
        meta = {"run_id": self.spec.run_id, "model": self.spec.model, "shard": path.name, **meta}
        table = table.replace_schema_metadata(meta)
        write_atomic(path, lambda tmp: pq.write_table(table, tmp))

    def score(self, chunks: list[int], head: Head) -> tuple[Score, dict[str, DerivedScore]]:
        """The run's score over its shards of `chunks`, and each derived dataset's."""
        scored = self._score([self.path(k) for k in chunks])
        derived = {}
        for dataset in self.derived(head):
            paths = [self.path(k, dataset) for k in chunks]
            part = self._score([p for p in paths if p.is_file()])
            if part.n_images:
                derived[dataset] = DerivedScore(part.n_images, part.top1, part.top5, part.shards)
        return scored, derived

    def _score(self, paths: list[Path]) -> Score:
        """Accuracy, shard checksums and image notes over a list of prediction shards."""
        import pyarrow.parquet as pq

        score = Score()
        correct1 = correct5 = 0
        for path in paths:
            table = pq.read_table(path)
            meta = table.schema.metadata or {}
            score.skipped.extend(json.loads(meta.get(b"skipped", b"[]")))
            score.fallback_decoded.extend(json.loads(meta.get(b"fallback_decoded", b"[]")))
            rows = table.select(["label", "top5", "correct"]).to_pylist()
            score.n_images += len(rows)
            correct1 += sum(r["correct"] for r in rows)
            correct5 += sum(r["label"] in r["top5"] for r in rows)
            name = path.relative_to(self.dir).as_posix()
            score.shards.append(ShardEntry(name, sha256_file(path), len(rows)))
        if score.n_images:
            score.top1 = 100.0 * correct1 / score.n_images
            score.top5 = 100.0 * correct5 / score.n_images
        return score


@dataclass
class Score:
    """Accuracy over some shards, their entries, and the images they skipped or decoded by a
    fallback (each `{"image_id", "reason"}`)."""

    n_images: int = 0
    top1: float | None = None
    top5: float | None = None
    shards: list[ShardEntry] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    fallback_decoded: list[dict[str, str]] = field(default_factory=list)
