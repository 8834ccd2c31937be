"""Head maths on synthetic features: k-NN blocking, the trained head's folded standardisation."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lottery_tui.probe.heads import KnnHead, _mean_std, train_linear_head


def test_knn_in_query_blocks_equals_one_block():
    gen = torch.Generator().manual_seed(0)
    bank = F.normalize(torch.randn(50, 8, generator=gen), dim=1)
    labels = torch.randint(0, 1000, (50,), generator=gen)
    queries = torch.randn(7, 8, generator=gen)
    head = KnnHead(bank, labels)
    assert torch.allclose(head.logits(queries, block=2), head.logits(queries, block=256))
    sims = F.normalize(queries, dim=1) @ bank.T
    top, idx = sims.topk(20, dim=1)
    brute = torch.zeros(7, 1000)
    for i in range(7):
        for s, j in zip(top[i], idx[i], strict=True):
            brute[i, labels[j]] += (s / 0.07).exp()
    assert torch.allclose(head.logits(queries), brute, rtol=1e-5)


def test_blocked_mean_std_matches_torch():
    x = torch.randn(1000, 5, generator=torch.Generator().manual_seed(1)).half() * 3 + 2
    mean, std = _mean_std(x, block=64)
    assert torch.allclose(mean, x.float().mean(0), atol=1e-5)
    assert torch.allclose(std, x.float().std(0), atol=1e-4)


def test_trained_head_folds_standardisation_into_raw_feature_weights():
    gen = torch.Generator().manual_seed(2)
    centres = torch.randn(3, 16, generator=gen) * 4 + 10  # far from zero: standardising matters
    labels = torch.arange(3).repeat_interleave(20)
    feats = centres[labels] + torch.randn(60, 16, generator=gen)
    head = train_linear_head(feats, labels * 300, epochs=30, device=torch.device("cpu"))
    assert head.weight.shape == (1000, 16)
    assert torch.equal(head.logits(feats).argmax(1), labels * 300)
    assert head.meta["train_top1"] == 100.0
