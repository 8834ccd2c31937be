"""Feature extraction: DataLoader workers decode to uint8, the device does the float maths.

A sweep (`sweep_chunks`) decodes each image once and feeds the batch to several models of the
same pipeline geometry; a single run is a sweep of one.

GPU path: pinned memory, non-blocking copies, normalisation on the device, channels_last, optional
bf16 autocast. With the opt-in `nvjpeg` decoder the workers only read bytes and the device decodes
(`batch_decode.py`). A chunk's features stay on the device: the main thread never waits for a
host copy; the engine's background writer makes it (`background.py`).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import torch

from lottery_tui.probe.batch_decode import RawFiles, collate, decode_ahead
from lottery_tui.probe.cache import Chunk
from lottery_tui.probe.pipelines import Preprocessing
from lottery_tui.probe.preprocess import DecodeError, decode_rgb, normalise, to_uint8_tensor

# Images a DataLoader worker decodes per task; a forward batch (--batch-size, 256 on a GPU) is put
# together from several. Workers handing over whole forward batches keep the device waiting for a
# full batch at the start and leave most of them idle in the last round (32 batches of 256 over
# 15 workers: three rounds of decoding for 2.1 rounds of work).
WORKER_BATCH = 32

T = TypeVar("T")


def _regroup(parts: Iterable[T], counts: list[int]) -> Iterator[list[T]]:
    """Consecutive groups of `counts[i]` parts."""
    stream = iter(parts)
    for count in counts:
        yield list(itertools.islice(stream, count))


class _ImageFiles(torch.utils.data.Dataset):
    """Decoded, resized, cropped uint8 images; an undecodable file becomes a named skip."""

    def __init__(self, paths: list[Path], prep: Preprocessing) -> None:
        self.paths = paths
        self.prep = prep

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int, str, str]:
        """(uint8 image, index, error that made it a skip, note on a fallback decoder)."""
        try:
            img, note = decode_rgb(self.paths[i])
            return to_uint8_tensor(img, self.prep), i, "", note[:300]
        except DecodeError as exc:
            blank = torch.zeros(3, self.prep.size, self.prep.size, dtype=torch.uint8)
            return blank, i, f"undecodable image: {exc}"[:300], ""


@contextlib.contextmanager
def tf32_flags(enabled: bool) -> Iterator[None]:
    """TF32 for matmuls and convolutions set for one model's forward, then restored: the flags
    are process-wide, and a sweep mixes models of different precisions."""
    matmul, cudnn = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = enabled
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = matmul, cudnn


@dataclass
class Extractor:
    """A loaded backbone on its device with its preprocessing.

    `tf32` is what its forwards run with (set and restored around each). After a CUDA
    out-of-memory error the forward batch is halved for the rest of the run (`halved_batch`,
    recorded in result.json); a second one fails the model.
    """

    model: torch.nn.Module
    prep: Preprocessing
    device: torch.device
    precision: str
    channels_last: bool
    batch_size: int
    num_workers: int
    worker_batch: int = WORKER_BATCH
    tf32: bool = False
    halved_batch: int | None = None

    def forward_batch(self, batch_uint8: torch.Tensor) -> torch.Tensor:
        """`forward`, retried once at half the batch after a CUDA out-of-memory error."""
        if self.halved_batch is None:
            try:
                return self.forward(batch_uint8)
            except torch.cuda.OutOfMemoryError:
                self.halved_batch = max(1, -(-batch_uint8.shape[0] // 2))
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()
        parts = batch_uint8.split(self.halved_batch)
        return torch.cat([self.forward(part) for part in parts])

    def forward(self, batch_uint8: torch.Tensor) -> torch.Tensor:
        with tf32_flags(self.tf32):
            return self._forward(batch_uint8)

    def _forward(self, batch_uint8: torch.Tensor) -> torch.Tensor:
        x = normalise(batch_uint8.to(self.device, non_blocking=True), self.prep, torch.float32)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(
            self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16"
        ):
            return self.model(x).float()

    def _loader(self, paths: list[Path], batches: list[list[int]]) -> torch.utils.data.DataLoader:
        on_device = self.prep.decoder == "nvjpeg"
        return torch.utils.data.DataLoader(
            RawFiles(paths, self.prep) if on_device else _ImageFiles(paths, self.prep),
            batch_sampler=batches,
            num_workers=self.num_workers,
            pin_memory=self.device.type == "cuda" and not on_device,
            persistent_workers=False,
            prefetch_factor=4 if self.num_workers else None,  # 4 x worker_batch images each
            collate_fn=collate if on_device else None,
        )

    def decoded(
        self, paths: list[Path], batches: list[list[int]]
    ) -> Iterator[tuple[torch.Tensor, list[int], list[str], list[str]]]:
        """(uint8 images, indices, errors, decoder notes) per batch of `paths` indices, whichever
        the decoder: the input side of the pipeline alone (bench/gpu_probe_check.py times it)."""
        size = self.worker_batch
        parts = [b[i : i + size] for b in batches for i in range(0, len(b), size)]
        groups = _regroup(self._loader(paths, parts), [-(-len(b) // size) for b in batches])
        if self.prep.decoder == "nvjpeg":
            flat = ([item for part in group for item in part] for group in groups)
            yield from decode_ahead(flat, paths, self.prep, self.device)
            return
        for group in groups:
            moved = [images.to(self.device, non_blocking=True) for images, *_ in group]
            yield (
                moved[0] if len(moved) == 1 else torch.cat(moved),
                [i for _, index, _, _ in group for i in index.tolist()],
                [e for _, _, errors, _ in group for e in errors],
                [n for _, _, _, notes in group for n in notes],
            )

    def chunks(
        self, paths: list[Path], chunks: list[tuple[int, int, int]], on_batch: Callable[[int], None]
    ) -> Iterator[tuple[int, Chunk]]:
        """Compute features for the given (k, start, stop) chunks, one DataLoader for all."""
        with contextlib.closing(sweep_chunks([self], paths, [chunks], [on_batch])) as stream:
            for _, k, chunk in stream:
                yield k, chunk


def sweep_chunks(
    extractors: list[Extractor],
    paths: list[Path],
    needs: list[list[tuple[int, int, int]]],
    on_batch: list[Callable[[int], None]],
    active: Callable[[int], bool] = lambda m: True,
    on_error: Callable[[int, Exception], None] | None = None,
) -> Iterator[tuple[int, int, Chunk]]:
    """(model index, k, chunk) for each model's needed (k, start, stop) chunks, decoding each
    image of the union once: the decoded batch feeds every model that needs its chunk, each with
    its own normalisation and precision. The extractors must share a pipeline geometry; the
    first one's batch size, workers and decoder run the input side. `active(m)` is asked at each
    chunk's start: a model no longer active (its run was cancelled) is dropped from there on, and
    decoding stops when none is left. A model whose forward fails is dropped at that batch and
    its error handed to `on_error(m, exc)` (without one, the error is raised). Inference mode is
    on until the generator ends: callers close it (`contextlib.closing`) so an error kept with
    its traceback cannot leave it on."""
    lead = extractors[0]
    for other in extractors[1:]:
        if other.prep.geometry != lead.prep.geometry or other.device != lead.device:
            raise ValueError("a sweep's models must share the pipeline geometry and device")
    wanted = [{k for k, _, _ in need} for need in needs]
    union = sorted({c for need in needs for c in need})
    if not union:
        return
    batches = [
        list(range(s, min(s + lead.batch_size, stop)))
        for _, start, stop in union
        for s in range(start, stop, lead.batch_size)
    ]
    pending = iter(union)
    k, start, stop = next(pending)
    feeding = [m for m in range(len(extractors)) if active(m)]
    feats: list[list[torch.Tensor]] = [[] for _ in extractors]
    kept: list[int] = []
    skipped: list[tuple[int, str]] = []
    notes: list[tuple[int, str]] = []
    with torch.inference_mode():
        for images, index, errors, decoder_notes in lead.decoded(paths, batches):
            ok = [j for j, e in enumerate(errors) if not e]
            rows = None if len(ok) == len(errors) else torch.tensor(ok, dtype=torch.long)
            for m in list(feeding):
                if k not in wanted[m]:
                    continue
                try:
                    out = extractors[m].forward_batch(images)
                except Exception as exc:
                    if on_error is None:
                        raise
                    feeding.remove(m)  # this model fails alone; the others go on
                    on_error(m, exc)
                    continue
                feats[m].append(out if rows is None else out[rows.to(out.device)])
                on_batch[m](len(errors))
            for j, e in enumerate(errors):
                pos = index[j] - start
                if e:
                    skipped.append((pos, e))
                else:
                    kept.append(pos)
                if decoder_notes[j]:
                    notes.append((pos, decoder_notes[j]))
            if index[-1] + 1 == stop:
                for m in feeding:
                    if k in wanted[m]:  # features still on the device
                        yield (
                            m,
                            k,
                            Chunk(torch.cat(feats[m]), list(kept), list(skipped), list(notes)),
                        )
                feats = [[] for _ in extractors]
                kept, skipped, notes = [], [], []
                k, start, stop = next(pending, (None, 0, 0))
                feeding = [m for m in feeding if active(m)]
            if not feeding:
                return
