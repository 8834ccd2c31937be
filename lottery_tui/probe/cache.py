"""On-disk feature cache: features are computed once per (model, preprocessing, image list).

A cache entry is a folder named by the hash of everything that changes the features (checkpoint
sha256, architecture, feature kind, preprocessing, precision, the exact image list, chunk size).
It holds one file per chunk of images, each written atomically: a crashed run finds the chunks it
finished and computes only the rest; a second head on the same model and dataset computes nothing.
Reading a chunk touches the entry's folder, so its time says when it was last used
(`lottery cache list`/`prune`, `lottery_tui/runs/caches.py`). Torch is imported only to read and
write chunks, so the cache's layout is known without it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lottery_tui.probe.files import write_atomic, write_text_atomic

if TYPE_CHECKING:
    import torch

FEATURES_DIR = "features"  # <cache>/features/<key>/: one entry per feature set
HEADS_DIR = "heads"  # <cache>/heads/<key>.pt: heads trained on cached train features
TRAIN_STORE = "float16"  # how a train folder's features are stored (test sets: float32)
KEY_FILE = "key.json"  # what an entry's key was computed from
CHUNK_PREFIX, CHUNK_SUFFIX = "chunk-", ".pt"


def cache_key(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


@dataclass
class Chunk:
    features: torch.Tensor  # (kept, d)
    kept: list[int]  # positions in the chunk whose image decoded
    skipped: list[tuple[int, str]]  # (position, reason) of images no decoder could read
    notes: list[tuple[int, str]] = field(default_factory=list)  # images a fallback decoded


class FeatureCache:
    def __init__(self, root: Path | str, parts: dict[str, Any]) -> None:
        self.dir = Path(root) / FEATURES_DIR / cache_key(parts)
        self.parts = parts

    def _path(self, k: int) -> Path:
        return self.dir / f"{CHUNK_PREFIX}{k:05d}{CHUNK_SUFFIX}"

    def has(self, k: int) -> bool:
        return self._path(k).is_file()

    def load(self, k: int) -> Chunk | None:
        import torch

        path = self._path(k)
        try:
            data = torch.load(path, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            return None
        except OSError:  # a read error (EIO on a shared filesystem) is no proof of damage: keep it
            raise
        except (
            Exception
        ):  # a damaged chunk (bad zip, truncated pickle) is recomputed, never trusted
            path.unlink(missing_ok=True)
            return None
        with contextlib.suppress(OSError):  # last use, for `lottery cache prune`
            os.utime(self.dir)
        return Chunk(
            data["features"],
            list(data["kept"]),
            [tuple(s) for s in data["skipped"]],
            [tuple(n) for n in data["notes"]],
        )

    def save(self, k: int, chunk: Chunk) -> None:
        import torch

        if not self.dir.exists():
            self.dir.mkdir(parents=True, exist_ok=True)
            write_text_atomic(self.dir / KEY_FILE, json.dumps(self.parts, indent=2, sort_keys=True))
        payload = {
            "features": chunk.features.cpu().contiguous(),  # a device's chunk, saved for any
            "kept": chunk.kept,
            "skipped": [list(s) for s in chunk.skipped],
            "notes": [list(n) for n in chunk.notes],
        }
        write_atomic(self._path(k), lambda tmp: torch.save(payload, tmp))
