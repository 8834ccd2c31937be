"""Per-framework evaluation pipelines as data (no torch): what the decoder, resize and crop do and
which mean/std the device applies.

Each framework's official evaluation differs in ways that change per-image predictions
(shared/docs/probe-notes.md): SimCLR feeds [0, 1] pixels with no mean/std; SimCLR and BYOL take a
centre crop of 87.5 % of the short side then resize bicubically; DINO resizes bicubically; the
swav repository's evaluation (SwAV, DeepCluster-v2, SeLa-v2) uses std 0.228 for red. Models whose
pipelines share a `geometry` get the same decoded pixels, so a sweep decodes once for all of them
(`sweep_group`); the launcher groups runs with it without importing torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
SWAV_STD = (0.228, 0.224, 0.225)
CROP_FRACTION = 0.875  # 224 / 256
# Evaluated with the swav repository's eval_linear.py, which normalises with SWAV_STD.
SWAV_REPO = ("swav", "deepcluster-v2", "sela-v2")


@dataclass(frozen=True)
class Preprocessing:
    """One evaluation pipeline, recorded verbatim with every run.

    `resize_then_crop`: Resize(short side = size / 0.875), CenterCrop(size) (torchvision's recipe).
    `crop_then_resize`: centre crop of 87.5 % of the short side, resized to size (TF SimCLR, BYOL).
    """

    method: str
    size: int
    interpolation: str
    mean: tuple[float, float, float] | None
    std: tuple[float, float, float] | None
    decoder: str = "pil"

    @property
    def resize_size(self) -> int:
        return round(self.size / CROP_FRACTION)

    @property
    def geometry(self) -> tuple[str, int, str, str]:
        """What decides the uint8 pixels (everything but mean and std, applied per model on the
        device): models with equal geometry can share one decode."""
        return (self.method, self.size, self.interpolation, self.decoder)

    def describe(self) -> dict[str, object]:
        out = asdict(self)
        out["resize_size"] = self.resize_size if self.method == "resize_then_crop" else None
        out["crop_fraction"] = CROP_FRACTION
        # The PIL record is kept word for word: it is part of existing feature-cache keys.
        out["decoder"] = DECODER_RECORDS[self.decoder]
        return out


DECODER_RECORDS = {
    "pil": "PIL (convert RGB), torchvision.io fallback",
    "nvjpeg": "torchvision.io.decode_jpeg batched on the run's device, resize antialiased on the "
    "device; PIL for other images",
}


def preprocessing_for(framework: str, size: int = 224, decoder: str = "pil") -> Preprocessing:
    """The official evaluation pipeline of `framework` at crop size `size`, decoded by `decoder`."""
    if framework.startswith("simclr"):
        return Preprocessing("crop_then_resize", size, "bicubic", None, None, decoder)
    if framework == "byol":
        return Preprocessing(
            "crop_then_resize", size, "bicubic", IMAGENET_MEAN, IMAGENET_STD, decoder
        )
    if framework == "dino":
        return Preprocessing(
            "resize_then_crop", size, "bicubic", IMAGENET_MEAN, IMAGENET_STD, decoder
        )
    if framework in SWAV_REPO:
        return Preprocessing("resize_then_crop", size, "bilinear", IMAGENET_MEAN, SWAV_STD, decoder)
    return Preprocessing("resize_then_crop", size, "bilinear", IMAGENET_MEAN, IMAGENET_STD, decoder)
