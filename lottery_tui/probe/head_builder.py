"""A run's head, from ImageNet features to logits: the checkpoint's own classifier or a released
file (built at set-up), or k-NN / a linear head trained on the train folder's cached features
(built once those features exist). `info` is what `result.json` records as `config.head`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from lottery_tui.errors import LotteryError
from lottery_tui.probe import heads as heads_mod
from lottery_tui.probe.cache import HEADS_DIR, FeatureCache, cache_key
from lottery_tui.probe.files import sha256_file
from lottery_tui.probe.prepared import PreparedModel

Head = heads_mod.LinearHead | heads_mod.KnnHead


class HeadBuilder:
    """Builds the head a spec names on a prepared model; `head` once built."""

    def __init__(self, model: PreparedModel, train_cache: FeatureCache | None) -> None:
        self.model = model
        self.spec = model.spec
        self.train_cache = train_cache  # the train folder's entry (`train`, `knn`)
        self.info: dict[str, Any] = {"kind": self.spec.head, "path": self.spec.head_path}
        self.head: Head | None = None
        self.bank_on_device = True  # a k-NN bank within the sweep's device budget

    def build_fixed(self) -> None:
        """The heads that need no train features: `builtin` and `linear`."""
        spec, model = self.spec, self.model
        if spec.head == "builtin":
            if model.backbone.builtin_head is None:
                raise LotteryError(
                    f"{spec.checkpoint}: a {spec.framework} checkpoint has no ImageNet classifier "
                    "of its own: give --head FILE, --train-head DIR or --knn DIR"
                )
            weight, bias = model.backbone.builtin_head
            heads_mod.check_head(weight, bias, model.dim, spec.checkpoint)
            self.head = heads_mod.LinearHead(weight, bias, {"builtin": model.backbone.layout})
        elif spec.head == "linear":
            self.head = heads_mod.read_head_file(spec.head_path, model.dim)
            self.info["sha256"] = sha256_file(spec.head_path)

    def needs_train_features(self) -> bool:
        """k-NN always reads the train features; a trained head only when none is saved yet."""
        return self.spec.head == "knn" or (
            self.spec.head == "train" and not self.saved_head_path().is_file()
        )

    def saved_head_path(self) -> Path:
        assert self.train_cache is not None
        key = cache_key(
            {
                "train": self.train_cache.parts,
                "hyper_parameters": self.protocol(),
                "protocol": heads_mod.HEAD_FORMAT,
            }
        )
        return Path(self.spec.cache_dir) / HEADS_DIR / f"{key}.pt"

    def protocol(self) -> dict[str, Any]:
        return heads_mod.head_protocol(self.spec.head_solver, self.spec.head_epochs)

    def build_trained(
        self,
        train_features: Callable[[], tuple[torch.Tensor, torch.Tensor]],
        stop: Callable[[], bool],
        on_training: Callable[[], None],
    ) -> None:
        """k-NN on the train features, or the `train` head: read back when saved, else fitted
        (`on_training` first; `stop` polled, raising `heads.TrainingStopped`) and saved."""
        spec, device = self.spec, self.model.device
        if spec.head == "knn":
            feats, labels = train_features()
            self.head = heads_mod.knn_head(feats, labels, device, on_device=self.bank_on_device)
            self.info.update(self.head.meta)
        elif spec.head == "train":
            path = self.saved_head_path()
            if path.is_file():
                self.head = heads_mod.read_head_file(path, self.model.dim)
                self.info["reused"] = True
            else:
                feats, labels = train_features()
                on_training()
                if spec.head_solver == "adamw":
                    self.head = heads_mod.train_linear_head(
                        feats, labels, epochs=spec.head_epochs, device=device, stop=stop
                    )
                else:
                    self.head = heads_mod.train_lbfgs_head(feats, labels, device=device, stop=stop)
                path.parent.mkdir(parents=True, exist_ok=True)
                heads_mod.save_head(path, self.head)
                self.info["reused"] = False
            self.info.update(
                self.head.meta, **self.protocol(), saved_head=str(path), sha256=sha256_file(path)
            )
