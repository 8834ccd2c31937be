"""Numerics per model: a sweep mixing precisions runs each model's forwards with its own TF32
setting (flags are process-wide), and leaves the process's flags as it found them."""

from __future__ import annotations

import numpy as np
import torch

from lottery_tui.probe.extractor import Extractor, sweep_chunks
from lottery_tui.probe.pipelines import preprocessing_for
from tests.probe.conftest import SIZE, write_image


class FlagRecorder(torch.nn.Module):
    """Records the TF32 flags its forwards run under; features are a pooled image."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[tuple[bool, bool]] = set()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flags = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
        self.seen.add(flags)
        return x.mean(dim=(2, 3))


def test_each_model_of_a_sweep_runs_with_its_own_tf32_setting(tmp_path) -> None:
    rng = np.random.default_rng(3)
    paths = [tmp_path / f"{i}.JPEG" for i in range(7)]
    for path in paths:
        write_image(path, rng)
    prep = preprocessing_for("torchvision", SIZE, "pil")
    models = [FlagRecorder() for _ in range(3)]
    tf32 = [True, False, True]  # e.g. bf16, fp32, bf16 models of one group, interleaved
    extractors = [
        Extractor(model, prep, torch.device("cpu"), "fp32", False, 3, 0, tf32=flag)
        for model, flag in zip(models, tf32, strict=True)
    ]
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    need = [[(0, 0, 4), (1, 4, 7)]] * 3
    out = list(sweep_chunks(extractors, paths, need, [lambda n: None] * 3))
    assert len(out) == 6
    for model, flag in zip(models, tf32, strict=True):
        assert model.seen == {(flag, flag)}
    assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == before
