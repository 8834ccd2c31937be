"""The input side of the extractor: workers decode small parts, forward batches are put back
together from them, in order, whichever the decoder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lottery_tui.probe.extractor import WORKER_BATCH, Extractor
from lottery_tui.probe.pipelines import preprocessing_for
from lottery_tui.probe.preprocess import decode_rgb, to_uint8_tensor
from tests.probe.conftest import SIZE, write_image


@pytest.mark.parametrize("decoder", ["pil", "nvjpeg"])
def test_forward_batches_are_rebuilt_from_worker_parts(decoder, tmp_path) -> None:
    rng = np.random.default_rng(8)
    paths = []
    for i in range(2 * WORKER_BATCH + 7):
        paths.append(tmp_path / f"{i:03d}.JPEG")
        write_image(paths[-1], rng)
    prep = preprocessing_for("torchvision", SIZE, decoder)
    extractor = Extractor(torch.nn.Identity(), prep, torch.device("cpu"), "fp32", False, 0, 1)
    batches = [list(range(0, 2 * WORKER_BATCH + 3)), list(range(2 * WORKER_BATCH + 3, len(paths)))]
    out = list(extractor.decoded(paths, batches))
    assert [index for _, index, _, _ in out] == batches
    assert [len(images) for images, *_ in out] == [len(b) for b in batches]
    assert all(not e for _, _, errors, _ in out for e in errors)
    if decoder == "pil":  # the same pixels as decoding each image alone
        reference = torch.stack([to_uint8_tensor(decode_rgb(p)[0], prep) for p in paths])
        assert torch.equal(torch.cat([images for images, *_ in out]), reference)
