"""Head maths on synthetic features: k-NN blocking, the trained head's folded standardisation."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lottery_tui.probe.heads import (
    ABSENT_BIAS,
    KnnHead,
    _mean_std,
    rank_classes,
    rank_votes,
    train_lbfgs_head,
    train_linear_head,
)


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


def test_knn_ties_rank_by_votes_then_summed_similarity_then_class_index():
    # Classes 7 and 3 each have one neighbour at the same similarity: equal votes and sums, so
    # the lower class index goes first, whatever the neighbours' order.
    labels = torch.tensor([[7, 3], [3, 7]])
    sims = torch.tensor([[0.5, 0.5], [0.5, 0.5]])
    assert rank_votes(labels, sims, 0.07) == [[3, 7], [3, 7]]
    # Equal votes: the larger summed similarity first (here class 9), then the lower index.
    votes = torch.zeros(1, 1000, dtype=torch.float64)
    summed = torch.zeros_like(votes)
    votes[0, [2, 9, 5]] = 2.0
    summed[0, [2, 9, 5]] = torch.tensor([0.1, 0.4, 0.1], dtype=torch.float64)
    assert rank_classes(votes, summed, votes > 0) == [[9, 2, 5]]
    # More votes win over a lower index; classes without a vote are never listed.
    labels = torch.tensor([[4, 4, 1]])
    sims = torch.tensor([[0.3, 0.3, 0.4]])
    assert rank_votes(labels, sims, 10.0) == [[4, 1]]


def test_knn_top5_masks_other_classes_before_choosing_neighbours():
    """Scoring R/A's classes: the k neighbours are the nearest images of those classes, not the
    nearest images overall (which would leave every scored class without a vote)."""
    gen = torch.Generator().manual_seed(5)
    query = torch.randn(1, 8, generator=gen)
    near = query + 0.01 * torch.randn(25, 8, generator=gen)  # class 0: nearest, not scored
    far = torch.randn(3, 8, generator=gen)  # classes 5, 5, 9: scored
    bank = F.normalize(torch.cat([near, far]), dim=1)
    labels = torch.tensor([0] * 25 + [5, 5, 9])
    head = KnnHead(bank, labels)
    assert head.top5(query) == [[0]]  # all 20 neighbours are class 0
    scored = head.top5(query, classes=[5, 9, 11])
    assert sorted(scored[0]) == [5, 9]  # 11 has no train image: never listed
    assert head.logits(query, classes=[5, 9, 11])[0, 0] == 0  # class 0 had no neighbour


def test_knn_top5_follows_the_documented_rule_with_ties_everywhere():
    """Duplicated train images tie at the k-th neighbour and between classes: the result equals
    a plain-Python reading of the rule (neighbours by similarity then lower train index; classes
    by votes, then summed similarity, then lower index; voted classes only)."""
    gen = torch.Generator().manual_seed(6)
    bank = F.normalize(torch.randn(30, 4, generator=gen), dim=1).repeat(2, 1)
    labels = torch.randint(0, 6, (60,), generator=gen)
    queries = torch.randn(9, 4, generator=gen)
    got = KnnHead(bank, labels, k=7).top5(queries)
    sims = (F.normalize(queries, dim=1) @ bank.T).double()
    for q in range(len(queries)):
        near = sorted(range(60), key=lambda j: (-sims[q, j].item(), j))[:7]
        votes: dict[int, float] = {}
        summed: dict[int, float] = {}
        for j in near:
            c = int(labels[j])
            votes[c] = votes.get(c, 0.0) + float(torch.exp(sims[q, j] / 0.07))
            summed[c] = summed.get(c, 0.0) + float(sims[q, j])
        ranked = sorted(votes, key=lambda c: (-votes[c], -summed[c], c))[:5]
        assert got[q] == ranked, q


def _blobs(seed: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """5 overlapping Gaussian classes in 20-d, off-centre and unevenly scaled (ids 0..400)."""
    gen = torch.Generator().manual_seed(99)
    centres = torch.randn(5, 20, generator=gen) * 0.35
    scale = torch.rand(20, generator=gen) * 3 + 0.5
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 5, (n,), generator=gen)
    x = (centres[y] + torch.randn(n, 20, generator=gen)) * scale + 5
    return x, y * 100


def test_lbfgs_head_matches_scikit_learns_logistic_regression():
    """Same C on the same standardised problem: test accuracy within 0.5 pp of scikit-learn."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x, y = _blobs(1, 1500)
    x_test, y_test = _blobs(2, 3000)
    l2 = 1e-2
    head = train_lbfgs_head(x, y, device=torch.device("cpu"), grid=(l2,), max_iter=500)
    ours = 100 * (head.logits(x_test).argmax(1) == y_test).double().mean().item()

    scaler = StandardScaler().fit(x.double().numpy())
    reference = LogisticRegression(C=1 / (l2 * len(x)), max_iter=10000, tol=1e-10)
    reference.fit(scaler.transform(x.double().numpy()), y.numpy())
    theirs = 100 * reference.score(scaler.transform(x_test.double().numpy()), y_test.numpy())
    assert 50 < theirs < 95  # a problem where the regularisation and the fit matter
    assert abs(ours - theirs) <= 0.5, (ours, theirs)
    assert head.meta["l2"] == l2 and head.meta["solver"] == "lbfgs"
    assert head.bias[1].item() == ABSENT_BIAS  # class 1 has no train image


def test_lbfgs_head_chooses_l2_on_a_held_out_split_and_records_it():
    x, y = _blobs(3, 600)
    head = train_lbfgs_head(
        x, y, device=torch.device("cpu"), grid=(1.0, 1e-3), search_iter=50, max_iter=100
    )
    assert set(head.meta["val_top1"]) == {"1", "0.001"}
    best = max(head.meta["val_top1"].items(), key=lambda kv: kv[1])[0]
    assert f"{head.meta['l2']:g}" == best
    assert head.meta["val_fraction"] == 0.1 and head.meta["l2_grid"] == [1.0, 1e-3]


def test_a_streamed_bank_gives_the_same_neighbours_as_one_on_the_device():
    """The bank kept on the host and compared in blocks (here 7 rows) finds the same k nearest,
    ties included, as the whole bank at once, with and without R/A masking."""
    gen = torch.Generator().manual_seed(8)
    bank = F.normalize(torch.randn(25, 4, generator=gen), dim=1).repeat(2, 1)  # ties
    labels = torch.randint(0, 6, (50,), generator=gen) * 40
    queries = torch.randn(11, 4, generator=gen)
    whole = KnnHead(bank, labels, k=9)
    streamed = KnnHead(bank, labels, k=9, bank_block=7, streamed=True)
    for classes in (None, [0, 80, 200]):
        assert streamed.top5(queries, classes) == whole.top5(queries, classes)
        assert torch.allclose(
            streamed.logits(queries, classes=classes), whole.logits(queries, classes=classes)
        )
