"""Running a pipeline (`pipelines.py`): decode, resize, crop on the CPU; normalise on the device.

The workers return uint8 tensors (a quarter of the bytes of float, pinned for the copy) and the
device does the float maths in one batched step.
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import torch
from PIL import Image, ImageFile, UnidentifiedImageError
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as tvf

from lottery_tui.probe.pipelines import CROP_FRACTION, Preprocessing


class DecodeError(Exception):
    """Neither decoder could read the image: the job skips it by name."""


def decode_rgb(path: Path) -> tuple[Image.Image, str]:
    """(RGB image, note). PIL first (handles CMYK and greyscale); then libjpeg via torchvision.io;
    then PIL accepting a truncated file. The note says which fallback was needed, if any."""
    try:
        with Image.open(path) as img:
            img.load()
            return img.convert("RGB"), ""
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as first:
        problem = str(first)
    try:
        with warnings.catch_warnings():  # torchvision.io's decoders are deprecated in 0.29
            warnings.simplefilter("ignore", DeprecationWarning)
            from torchvision.io import ImageReadMode, decode_image

            data = torch.frombuffer(bytearray(Path(path).read_bytes()), dtype=torch.uint8)
            tensor = decode_image(data, mode=ImageReadMode.RGB)
        return tvf.to_pil_image(tensor), f"decoded by torchvision.io (PIL: {problem})"
    except Exception as second:  # any failure: try the last decoder
        problem = f"{problem}; torchvision.io: {str(second).splitlines()[0][-120:]}"
    truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        ImageFile.LOAD_TRUNCATED_IMAGES = True
        with Image.open(path) as img:
            img.load()
            return img.convert("RGB"), f"truncated file, missing pixels filled by PIL ({problem})"
    except Exception as third:
        raise DecodeError(f"{problem}; PIL (truncated allowed): {third}") from third
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = truncated


def _pil_interpolation(name: str) -> InterpolationMode:
    return InterpolationMode.BICUBIC if name == "bicubic" else InterpolationMode.BILINEAR


def to_uint8_tensor(img: Image.Image, prep: Preprocessing) -> torch.Tensor:
    """Resize and crop one image; a (3, size, size) uint8 tensor."""
    interp = _pil_interpolation(prep.interpolation)
    if prep.method == "resize_then_crop":
        img = tvf.resize(img, prep.resize_size, interpolation=interp)
        img = tvf.center_crop(img, [prep.size, prep.size])
    else:
        width, height = img.size
        side = round(CROP_FRACTION * min(width, height))
        img = tvf.center_crop(img, [side, side])
        img = tvf.resize(img, [prep.size, prep.size], interpolation=interp)
    return tvf.pil_to_tensor(img)


@functools.lru_cache(maxsize=16)
def _mean_std(prep: Preprocessing, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    # Made once per device: a host-to-device copy per batch would stall the GPU pipeline.
    mean = torch.tensor(prep.mean, device=device).view(1, 3, 1, 1)
    std = torch.tensor(prep.std, device=device).view(1, 3, 1, 1)
    return mean, std


def normalise(batch: torch.Tensor, prep: Preprocessing, dtype: torch.dtype) -> torch.Tensor:
    """uint8 (N, 3, H, W) on the device -> float, scaled to [0, 1], then mean/std if any."""
    x = batch.to(torch.float32).div_(255.0)
    if prep.mean is not None and prep.std is not None:
        mean, std = _mean_std(prep, x.device)
        x = x.sub_(mean).div_(std)
    return x.to(dtype)
