"""The opt-in `nvjpeg` decoder: workers read bytes, the device decodes, resizes and crops.

Pillow decoding + resizing in DataLoader workers bounds a GPU run (docs/probe.md). With
`decoder="nvjpeg"` the workers only read file bytes; the main process decodes each batch with
`torchvision.io.decode_jpeg(..., device=...)` (nvJPEG on a GPU, libjpeg on the CPU), then resizes
(antialiased, same size rule and interpolation as the PIL path) and centre-crops on the device.
The pixels differ slightly from PIL's, so the decoder is part of the recorded preprocessing.
Anything the batched decoder should not or cannot take (not a 3-channel JPEG: greyscale, CMYK, PNG,
corrupt) goes through the PIL path instead, with a note naming why.
"""

from __future__ import annotations

import warnings
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import torch
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as tv2

from lottery_tui.probe.pipelines import CROP_FRACTION, Preprocessing
from lottery_tui.probe.preprocess import DecodeError, decode_rgb, to_uint8_tensor

# Start-of-frame markers (baseline, extended, progressive, lossless; Huffman and arithmetic).
_SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE})
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


def jpeg_components(data: bytes) -> int | None:
    """Colour components of a JPEG from its frame header, or None for anything else
    (PNG, truncated header, not an image): a cheap check the workers make on raw bytes."""
    if data[:3] != b"\xff\xd8\xff":
        return None
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker in _SOF_MARKERS:
            return data[pos + 9] if pos + 9 < len(data) else None
        if marker == 0xDA or length < 2:  # scan data before any frame header
            return None
        pos += 2 + length
    return None


@dataclass
class RawItem:
    """What a worker returns: file bytes for the device, or an image the PIL path already made.

    Bytes, not tensors: a tensor crosses from a worker through its own shared-memory segment,
    which costs more per image than pickling a few dozen kilobytes."""

    data: bytes
    image: torch.Tensor | None  # (3, size, size) uint8 when the PIL path made it
    index: int
    error: str
    note: str


def _pil_item(path: Path, prep: Preprocessing, index: int, why: str) -> RawItem:
    """The PIL path for one image, its note saying why the batched decoder was not used."""
    try:
        img, note = decode_rgb(path)
    except DecodeError as exc:
        blank = torch.zeros(3, prep.size, prep.size, dtype=torch.uint8)
        return RawItem(b"", blank, index, f"undecodable image: {exc}"[:300], "")
    note = f"decoded by PIL ({why})" + (f"; {note}" if note else "")
    return RawItem(b"", to_uint8_tensor(img, prep), index, "", note[:300])


class RawFiles(torch.utils.data.Dataset):
    """File bytes of 3-channel JPEGs; every other file is decoded here by the PIL path."""

    def __init__(self, paths: list[Path], prep: Preprocessing) -> None:
        self.paths = paths
        self.prep = prep

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> RawItem:
        path = self.paths[i]
        try:
            data = path.read_bytes()
        except OSError as exc:
            blank = torch.zeros(3, self.prep.size, self.prep.size, dtype=torch.uint8)
            return RawItem(b"", blank, i, f"unreadable image: {exc.strerror}"[:300], "")
        components = jpeg_components(data)
        if components != 3:
            why = "not a JPEG" if components is None else f"JPEG with {components} channel(s)"
            return _pil_item(path, self.prep, i, f"batched decoder: {why}")
        return RawItem(data, None, i, "", "")


def collate(items: list[RawItem]) -> list[RawItem]:
    """Keep the items as they are: byte strings differ in length."""
    return items


def _interpolation(name: str) -> InterpolationMode:
    return InterpolationMode.BICUBIC if name == "bicubic" else InterpolationMode.BILINEAR


def resize_crop(image: torch.Tensor, prep: Preprocessing) -> torch.Tensor:
    """The PIL path's resize and crop (`to_uint8_tensor`) on (..., 3, H, W) uint8 tensors."""
    interp = _interpolation(prep.interpolation)
    if prep.method == "resize_then_crop":
        image = tv2.resize(image, [prep.resize_size], interpolation=interp, antialias=True)
        return tv2.center_crop(image, [prep.size, prep.size])
    side = round(CROP_FRACTION * min(image.shape[-2:]))
    image = tv2.center_crop(image, [side, side])
    return tv2.resize(image, [prep.size, prep.size], interpolation=interp, antialias=True)


def _decode_jpegs(datas: list[torch.Tensor], device: torch.device) -> list[torch.Tensor | None]:
    """Decode a batch in one call; if that fails, one at a time so one bad file costs one image."""
    with warnings.catch_warnings():  # torchvision.io's decoders are deprecated in 0.29
        warnings.simplefilter("ignore", DeprecationWarning)
        from torchvision.io import ImageReadMode, decode_jpeg

        try:
            return list(decode_jpeg(datas, mode=ImageReadMode.RGB, device=device))
        except RuntimeError:
            out: list[torch.Tensor | None] = []
            for data in datas:
                try:
                    out.append(decode_jpeg(data, mode=ImageReadMode.RGB, device=device))
                except RuntimeError:
                    out.append(None)
            return out


# (uint8 (N, 3, size, size) images on the device, indices, errors, decoder notes)
Decoded = tuple[torch.Tensor, list[int], list[str], list[str]]


def decode_batch(
    items: list[RawItem], paths: list[Path], prep: Preprocessing, device: torch.device
) -> Decoded:
    """(uint8 (N, 3, size, size) on `device`, indices, errors, notes) for one batch of items."""
    todo = [j for j, item in enumerate(items) if item.image is None]
    datas = [torch.frombuffer(bytearray(items[j].data), dtype=torch.uint8) for j in todo]
    decoded = _decode_jpegs(datas, device) if todo else []
    images: list[torch.Tensor | None] = [None] * len(items)
    by_shape: dict[tuple[int, ...], list[tuple[int, torch.Tensor]]] = {}
    for j, image in zip(todo, decoded, strict=True):
        if image is None:
            item = items[j]
            items[j] = _pil_item(paths[item.index], prep, item.index, "batched decoder failed")
        else:
            by_shape.setdefault(tuple(image.shape), []).append((j, image))
    # One resize per distinct image size (ImageNet has few common ones): fewer, larger kernels.
    for group in by_shape.values():
        resized = resize_crop(torch.stack([image for _, image in group]), prep)
        for (j, _), image in zip(group, resized, strict=True):
            images[j] = image
    for j, item in enumerate(items):
        if images[j] is None:
            images[j] = item.image.to(device, non_blocking=True)
    batch = torch.stack(images)  # type: ignore[arg-type]
    return (
        batch,
        [item.index for item in items],
        [item.error for item in items],
        [item.note for item in items],
    )


def decode_ahead(
    batches: Iterable[list[RawItem]],
    paths: list[Path],
    prep: Preprocessing,
    device: torch.device,
    depth: int = 2,
) -> Iterator[Decoded]:
    """`decode_batch` for each batch, `depth` batches ahead in a thread (on its own CUDA
    stream), so decoding overlaps the forward pass instead of alternating with it."""
    stream = torch.cuda.Stream(device) if device.type == "cuda" else None

    def work(batch: list[RawItem]) -> tuple[Decoded, torch.cuda.Event | None]:
        with torch.cuda.stream(stream) if stream is not None else nullcontext():
            out = decode_batch(batch, paths, prep, device)
            return out, stream.record_event() if stream is not None else None

    def ready(future: Future) -> Decoded:
        out, event = future.result()
        if event is not None:
            consumer = torch.cuda.current_stream(device)
            consumer.wait_event(event)
            out[0].record_stream(consumer)  # freed by the consumer: no early reuse
        return out

    pending: deque[Future] = deque()
    with ThreadPoolExecutor(1, thread_name_prefix="decode") as pool:
        for batch in batches:
            pending.append(pool.submit(work, batch))
            if len(pending) > depth:
                yield ready(pending.popleft())
        while pending:
            yield ready(pending.popleft())
