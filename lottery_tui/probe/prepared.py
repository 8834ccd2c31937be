"""A checkpoint made ready for a run: the device, the backbone adapted from its layout and loaded
strictly, the preprocessing, and the extractor that computes its features.

Everything here can fail, and does so before the first image is decoded (the engine prepares
every run of a sweep first).
"""

from __future__ import annotations

import platform
from dataclasses import dataclass

import torch

from lottery_tui.errors import LotteryError
from lottery_tui.probe.cache import FeatureCache
from lottery_tui.probe.checkpoints import Backbone, adapt_checkpoint, load_strictly, read_checkpoint
from lottery_tui.probe.contract import JobSpec
from lottery_tui.probe.datasets import DatasetListing
from lottery_tui.probe.extractor import Extractor
from lottery_tui.probe.files import sha256_file
from lottery_tui.probe.models import build_backbone, feature_dim, feature_kind
from lottery_tui.probe.pipelines import Preprocessing, preprocessing_for


class DeviceError(LotteryError):
    """The requested device is not available."""


def resolve_device(spec: JobSpec) -> torch.device:
    if spec.device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError(
                "--device cuda asked for, but PyTorch sees no CUDA GPU here "
                "(use --device cpu, or run on a GPU machine)"
            )
        return torch.device(spec.device)
    return torch.device("cpu")


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


@dataclass
class PreparedModel:
    """A run's backbone on its device, with what its features depend on."""

    spec: JobSpec
    device: torch.device
    backbone: Backbone
    kind: str  # the feature the head reads (`models.feature_kind`)
    dim: int
    checkpoint_sha256: str
    prep: Preprocessing
    extractor: Extractor

    @property
    def arch(self) -> str:
        return self.backbone.arch

    def feature_cache(self, listing: DatasetListing, store: str) -> FeatureCache:
        """The feature-cache entry of `listing`'s images through this model (`store`: the
        stored dtype)."""
        parts = {
            "checkpoint_sha256": self.checkpoint_sha256,
            "arch": self.arch,
            "feature": self.kind,
            "preprocessing": self.prep.describe(),
            "precision": self.spec.precision,
            "images": listing.fingerprint(),
            "chunk_size": self.spec.chunk_size,
            "store": store,
        }
        return FeatureCache(self.spec.cache_dir, parts)


def prepare_model(spec: JobSpec, device: torch.device) -> PreparedModel:
    """Read, adapt and strictly load the checkpoint, and set it up on `device`."""
    obj = read_checkpoint(spec.checkpoint)
    backbone = adapt_checkpoint(obj, spec.framework, path=spec.checkpoint)
    del obj
    if spec.arch and spec.arch != backbone.arch:
        raise LotteryError(
            f"{spec.checkpoint}: wrong architecture: the checkpoint holds a "
            f"{backbone.arch}, the run asks for {spec.arch}"
        )
    kind = feature_kind(backbone.arch, spec.head)
    model = build_backbone(backbone.arch, kind)
    load_strictly(model, backbone, path=spec.checkpoint)
    checkpoint_sha256 = sha256_file(spec.checkpoint)
    prep = preprocessing_for(spec.framework, spec.image_size, spec.decoder)
    channels_last = device.type == "cuda"
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed input size: pick the fastest kernels
    model = model.eval().to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    extractor = Extractor(
        model,
        prep,
        device,
        spec.precision,
        channels_last,
        spec.batch_size,
        spec.num_workers,
        # fp32 means fp32: TF32 convolutions would change some per-image predictions. Set
        # around this model's forwards only: a sweep mixes precisions.
        tf32=device.type == "cuda" and spec.precision != "fp32",
    )
    return PreparedModel(
        spec,
        device,
        backbone,
        kind,
        feature_dim(backbone.arch, kind),
        checkpoint_sha256,
        prep,
        extractor,
    )
