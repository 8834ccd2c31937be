"""Classifier heads on backbone features: released linear heads, trained ones, and k-NN.

Only a real ImageNet classifier is ever used: `linear.*` or `fc.*` with 1000 outputs (SwAV, DINO,
MoCo v3, SimSiam releases, or a head this module trained and saved). Projection, prototype and
bag-of-words heads have other names or other shapes and are refused.

Trained heads, on cached features of an ImageNet train folder (docs/probe.md): by default
L2-regularised multinomial logistic regression fitted by L-BFGS (`train_lbfgs_head`), or the
earlier AdamW protocol (`train_linear_head`); `head_protocol` lists each one's hyper-parameters.
Both standardise the features and fold the standardisation into the saved weights, so a saved
head is a plain Linear on raw features.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from lottery_tui.errors import InputError
from lottery_tui.probe.knn_memory import KNN_BANK_BLOCK

N_CLASSES = 1000
HEAD_FORMAT = "lottery-tui linear head v1"
KNN_K = 20
KNN_TEMPERATURE = 0.07


class TrainingStopped(Exception):
    """Head training was asked to stop (its run was cancelled)."""


@dataclass
class LinearHead:
    weight: torch.Tensor  # (1000, d)
    bias: torch.Tensor  # (1000,)
    meta: dict[str, Any] = field(default_factory=dict)

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        w = self.weight.to(features.device, torch.float32)
        return F.linear(features.float(), w, self.bias.to(features.device, torch.float32))

    def covers(self, classes: list[int]) -> bool:
        """Can score images of these classes (a linear head scores every class)."""
        return True

    def top5(self, features: torch.Tensor, classes: list[int] | None = None) -> list[list[int]]:
        """The 5 highest-scoring classes per image, among `classes` when given (R/A)."""
        logits = self.logits(features)
        if classes is not None:
            mask = torch.full((logits.shape[1],), float("-inf"), device=logits.device)
            mask[torch.tensor(classes, device=logits.device)] = 0.0
            logits = logits + mask
        return logits.topk(5, dim=1).indices.cpu().tolist()


def check_head(weight: torch.Tensor, bias: torch.Tensor, dim: int, path: Path | str) -> None:
    if weight.ndim != 2 or weight.shape[0] != N_CLASSES or bias.shape != (N_CLASSES,):
        raise InputError(
            f"head has shape {tuple(weight.shape)}: not a 1000-class ImageNet classifier "
            "(projection, prototype and bag-of-words heads are never used as classifiers)",
            path,
        )
    if weight.shape[1] != dim:
        raise InputError(
            f"head reads {weight.shape[1]}-d features but this backbone gives {dim}-d "
            "(a head for another architecture or protocol)",
            path,
        )


def read_head_file(path: Path | str, dim: int) -> LinearHead:
    """A released head (SwAV/DINO `linear.*`, MoCo v3/SimSiam `fc.*`) or a saved trained head."""
    from lottery_tui.probe.checkpoints import read_checkpoint

    if not Path(path).is_file():
        raise InputError("head file not found", path)
    obj = read_checkpoint(path)
    if isinstance(obj, Mapping) and obj.get("format") == HEAD_FORMAT:
        check_head(obj["weight"], obj["bias"], dim, path)
        return LinearHead(obj["weight"], obj["bias"], dict(obj.get("meta", {})))
    for container in (
        obj,
        *(obj.get(k) for k in ("state_dict", "model") if isinstance(obj, Mapping)),
    ):
        if not isinstance(container, Mapping):
            continue
        keys = {k.removeprefix("module."): v for k, v in container.items()}
        for name in ("linear", "fc"):
            if f"{name}.weight" in keys and f"{name}.bias" in keys:
                weight, bias = keys[f"{name}.weight"], keys[f"{name}.bias"]
                check_head(weight, bias, dim, path)
                return LinearHead(weight, bias, {"released_keys": f"{name}.weight/bias"})
    sample = sorted(obj)[:8] if isinstance(obj, Mapping) else type(obj).__name__
    raise InputError(
        f"no linear classifier (linear.weight/bias or fc.weight/bias) found (keys: {sample})", path
    )


def save_head(path: Path, head: LinearHead) -> None:
    from lottery_tui.probe.files import write_atomic

    payload = {"format": HEAD_FORMAT, "weight": head.weight, "bias": head.bias, "meta": head.meta}
    write_atomic(path, lambda tmp: torch.save(payload, tmp))


def train_linear_head(
    features: torch.Tensor,
    labels: torch.Tensor,
    *,
    epochs: int,
    device: torch.device,
    seed: int = 0,
    batch_size: int = 1024,
    stop: Callable[[], bool] = lambda: False,
) -> LinearHead:
    """Fit Linear(d, 1000) on cached features (protocol in the module docstring). `stop` is
    asked before every step: when it says so, training ends with `TrainingStopped`."""
    x = features.to(device)
    y = labels.to(device, torch.long)
    mean, std = _mean_std(x, batch_size * 64)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    layer = torch.nn.Linear(x.shape[1], N_CLASSES).to(device)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(layer.weight.shape, generator=gen) * 0.01)
        layer.bias.zero_()
    optimiser = torch.optim.AdamW(layer.parameters(), lr=1e-3, weight_decay=1e-4)
    steps_per_epoch = math.ceil(len(x) / batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, epochs * steps_per_epoch)
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=gen).to(device)
        for start in range(0, len(x), batch_size):
            if stop():
                raise TrainingStopped("head training stopped")
            batch = order[start : start + batch_size]
            inputs = (x[batch].float() - mean) / std
            loss = F.cross_entropy(layer(inputs), y[batch])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
    with torch.no_grad():
        weight = layer.weight / std
        bias = layer.bias - weight @ mean
        hits = sum(
            (
                F.linear(x[s : s + batch_size].float(), weight, bias).argmax(1)
                == y[s : s + batch_size]
            )
            .sum()
            .item()
            for s in range(0, len(x), batch_size)
        )
        train_top1 = hits / len(x)
    meta = {
        "protocol": "linear on cached centre-crop features, standardised, AdamW 1e-3, "
        f"wd 1e-4, batch {batch_size}, cosine, {epochs} epochs, seed {seed}",
        "train_images": len(x),
        "train_top1": 100 * train_top1,
    }
    return LinearHead(weight.cpu(), bias.cpu(), meta)


# The default trained head (Kornblith et al. 2019; CLIP): L2-regularised multinomial logistic
# regression on the standardised cached features, fitted by full-batch L-BFGS, minimising
# mean cross-entropy + l2 / 2 * ||W||^2 (the bias is not penalised; sklearn's C = 1 / (l2 * n)).
# l2 is chosen on a held-out split of the train images from LBFGS_L2_GRID (strongest first, each
# fit warm-started from the previous), then the head is refitted on every train image.
LBFGS_L2_GRID = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6)
LBFGS_VAL_FRACTION = 0.1
LBFGS_SEARCH_ITER = 100  # L-BFGS iterations per grid value on the split
LBFGS_MAX_ITER = 500  # iterations of the final fit
LBFGS_BLOCK = 65536  # images per block of the loss (memory, not the maths: full batch)
ABSENT_BIAS = -1e4  # classes without a train image: never above a class that has one


def head_protocol(solver: str, epochs: int, seed: int = 0) -> dict[str, Any]:
    """Every hyper-parameter of a trained head: its saved file's key and its run's record."""
    if solver == "adamw":
        return {
            "solver": "adamw",
            "lr": 1e-3,
            "weight_decay": 1e-4,
            "batch_size": 1024,
            "schedule": "cosine",
            "epochs": epochs,
            "seed": seed,
            "standardised": True,
        }
    return {
        "solver": "lbfgs",
        "loss": "mean cross-entropy + l2/2 ||W||^2",
        "l2_grid": list(LBFGS_L2_GRID),
        "val_fraction": LBFGS_VAL_FRACTION,
        "search_iter": LBFGS_SEARCH_ITER,
        "max_iter": LBFGS_MAX_ITER,
        "history_size": 20,
        "line_search": "strong_wolfe",
        "seed": seed,
        "standardised": True,
    }


def train_lbfgs_head(
    features: torch.Tensor,
    labels: torch.Tensor,
    *,
    device: torch.device,
    seed: int = 0,
    grid: tuple[float, ...] = LBFGS_L2_GRID,
    val_fraction: float = LBFGS_VAL_FRACTION,
    search_iter: int = LBFGS_SEARCH_ITER,
    max_iter: int = LBFGS_MAX_ITER,
    stop: Callable[[], bool] = lambda: False,
) -> LinearHead:
    """Fit the L-BFGS head (protocol above); `stop` is asked at every loss evaluation."""
    x = features.to(device)
    y_all = labels.to(device, torch.long)
    mean, std = _mean_std(x, LBFGS_BLOCK)
    present = torch.unique(y_all)
    y = torch.searchsorted(present, y_all)  # class ids -> 0..len(present)-1
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(x), generator=gen).to(device)
    n_val = max(1, round(len(x) * val_fraction)) if len(grid) > 1 else 0
    val, fit_rows = order[:n_val], order[n_val:]
    weight = torch.zeros(len(present), x.shape[1], device=device, requires_grad=True)
    bias = torch.zeros(len(present), device=device, requires_grad=True)

    def standardised(rows: torch.Tensor) -> torch.Tensor:
        return (x[rows].float() - mean) / std

    def fit(rows: torch.Tensor, l2: float, iters: int) -> None:
        optimiser = torch.optim.LBFGS(
            [weight, bias],
            lr=1,
            max_iter=iters,
            history_size=20,
            tolerance_grad=1e-9,
            tolerance_change=1e-12,
            line_search_fn="strong_wolfe",
        )

        def closure() -> torch.Tensor:
            if stop():
                raise TrainingStopped("head training stopped")
            optimiser.zero_grad(set_to_none=False)
            total = torch.zeros((), device=device)
            for s in range(0, len(rows), LBFGS_BLOCK):
                part = rows[s : s + LBFGS_BLOCK]
                loss = F.cross_entropy(
                    F.linear(standardised(part), weight, bias), y[part], reduction="sum"
                ) / len(rows)
                loss.backward()
                total += loss.detach()
            penalty = 0.5 * l2 * (weight * weight).sum()
            penalty.backward()
            return total + penalty.detach()

        optimiser.step(closure)

    def accuracy(rows: torch.Tensor) -> float:
        with torch.no_grad():
            hits = sum(
                (F.linear(standardised(rows[s : s + LBFGS_BLOCK]), weight, bias).argmax(1)
                 == y[rows[s : s + LBFGS_BLOCK]]).sum().item()
                for s in range(0, len(rows), LBFGS_BLOCK)
            )  # fmt: skip
        return 100 * hits / len(rows)

    val_top1: dict[str, float] = {}
    best, best_top1 = grid[0], -1.0
    for l2 in sorted(grid, reverse=True):  # strongest first: each fit warm-starts the next
        if n_val == 0:
            break
        fit(fit_rows, l2, search_iter)
        val_top1[f"{l2:g}"] = accuracy(val)
        if val_top1[f"{l2:g}"] > best_top1:  # equal: the stronger regularisation stays
            best, best_top1 = l2, val_top1[f"{l2:g}"]
    fit(order, best, max_iter)
    train_top1 = accuracy(order)
    with torch.no_grad():
        w = (weight / std).detach()
        b = (bias - w @ mean).detach()
        full_w = torch.zeros(N_CLASSES, x.shape[1], device=device)
        full_b = torch.full((N_CLASSES,), ABSENT_BIAS, device=device)
        full_w[present], full_b[present] = w, b
    meta = {
        "protocol": f"multinomial logistic regression, L-BFGS, l2 {best:g} chosen on a "
        f"{val_fraction:g} held-out split from {list(grid)}, standardised features, seed {seed}",
        **head_protocol("lbfgs", 0, seed),
        "l2_grid": list(grid),
        "val_fraction": val_fraction,
        "search_iter": search_iter,
        "max_iter": max_iter,
        "l2": best,
        "val_top1": val_top1,
        "train_images": len(x),
        "train_top1": train_top1,
    }
    return LinearHead(full_w.cpu(), full_b.cpu(), meta)


def _mean_std(x: torch.Tensor, block: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-dimension mean and std in float64 blocks (an fp32 copy of 1.28 M features is 10 GB)."""
    total = torch.zeros(x.shape[1], dtype=torch.float64, device=x.device)
    squares = torch.zeros_like(total)
    for s in range(0, len(x), block):
        part = x[s : s + block].double()
        total += part.sum(0)
        squares += (part * part).sum(0)
    mean = total / len(x)
    var = (squares / len(x) - mean * mean) * len(x) / max(len(x) - 1, 1)
    return mean.float(), var.clamp_min(1e-12).sqrt().float().clamp_min(1e-6)


@dataclass
class KnnHead:
    """DINO's weighted k-NN: cosine similarity, top k, votes exp(sim / T).

    Scoring a class subset (ImageNet-R/A's 200 classes, or val scored on them), the train images
    of other classes are masked before the top-k: each image's k neighbours are the nearest of
    the scored classes. Ranking (`rank_votes`), the same on CPU and CUDA: votes, then summed
    similarity, then the lower class index; only classes with a vote are listed, so a top-5 holds
    fewer than 5 classes when the k neighbours span fewer (never filled by tie order).
    """

    bank: torch.Tensor  # (n, d) L2-normalised train features
    labels: torch.Tensor  # (n,)
    k: int = KNN_K
    temperature: float = KNN_TEMPERATURE
    meta: dict[str, Any] = field(default_factory=dict)
    bank_block: int = KNN_BANK_BLOCK
    streamed: bool = False  # the bank stays on the host: compared in blocks of `bank_block` rows

    def covers(self, classes: list[int]) -> bool:
        """The bank holds a train image of at least one of these classes."""
        return bool(torch.isin(self.labels.cpu(), torch.tensor(classes)).any())

    def _neighbours(
        self, features: torch.Tensor, classes: list[int] | None, block: int
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(labels, similarities) of each query's k nearest train images, in query blocks.

        A bank on the queries' device is compared whole with blocks of `block` queries (256 x
        1.28 M similarities are 0.6 GB in fp16). A bank held on the host (over the sweep's
        device budget, `bank_placement`) is streamed once per call in blocks of `bank_block`
        rows against all the queries, keeping each query's running k nearest."""
        device = features.device
        labels = self.labels.to(device, torch.long)
        outside = None
        k = min(self.k, len(self.bank))
        if classes is not None:
            allowed = torch.zeros(N_CLASSES, dtype=torch.bool, device=device)
            allowed[torch.tensor(classes, device=device)] = True
            outside = ~allowed[labels]
            k = min(self.k, int((~outside).sum()))
            if k == 0:
                raise InputError("k-NN: the train folder has no image of the classes scored")
        if self.streamed:
            queries, rows = len(features), self.bank_block
        else:
            queries, rows = block, len(self.bank)
        for start in range(0, len(features), max(queries, 1)):
            query = F.normalize(features[start : start + queries].float(), dim=1)
            best_sims = torch.empty(len(query), 0, device=device)
            best_idx = torch.empty(len(query), 0, dtype=torch.long, device=device)
            for first in range(0, len(self.bank), rows):
                part = self.bank[first : first + rows].to(device, non_blocking=True)
                sims = (query.to(part.dtype) @ part.T).float()
                if outside is not None:
                    sims.masked_fill_(outside[first : first + rows], float("-inf"))
                idx = _nearest(sims, min(k, len(part)))
                best_sims, best_idx = _merge_nearest(
                    best_sims, best_idx, sims.gather(1, idx), idx + first, k
                )
            yield labels[best_idx], best_sims

    def logits(
        self, features: torch.Tensor, block: int = 256, classes: list[int] | None = None
    ) -> torch.Tensor:
        """Votes per class (n, 1000)."""
        votes = torch.zeros(len(features), N_CLASSES, device=features.device)
        start = 0
        for labels, sims in self._neighbours(features, classes, block):
            votes[start : start + len(labels)].scatter_add_(
                1, labels, (sims / self.temperature).exp()
            )
            start += len(labels)
        return votes

    def top5(
        self, features: torch.Tensor, classes: list[int] | None = None, block: int = 256
    ) -> list[list[int]]:
        out: list[list[int]] = []
        for labels, sims in self._neighbours(features, classes, block):
            out += rank_votes(labels, sims, self.temperature)
        return out


def _nearest(sims: torch.Tensor, k: int) -> torch.Tensor:
    """The k most similar train images per row; at equal similarity the lower train index (the
    train folder's sorted order), on any device: `topk` alone picks among ties arbitrarily."""
    top = sims.topk(k, dim=1)
    tied = (sims >= top.values[:, -1:]).sum(1) > k  # rows with a tie at the k-th place
    idx = top.indices
    if bool(tied.any()):
        idx = idx.clone()
        rows = tied.nonzero().flatten()
        idx[rows] = torch.sort(sims[rows], dim=1, descending=True, stable=True).indices[:, :k]
    return idx


def _merge_nearest(
    sims_a: torch.Tensor, idx_a: torch.Tensor, sims_b: torch.Tensor, idx_b: torch.Tensor, k: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The k nearest of two candidate sets, by similarity then lower train index."""
    sims, idx = torch.cat([sims_a, sims_b], dim=1), torch.cat([idx_a, idx_b], dim=1)
    if sims_a.shape[1] == 0:
        return sims, idx
    by_index = torch.sort(idx, dim=1, stable=True).indices
    sims, idx = sims.gather(1, by_index), idx.gather(1, by_index)
    order = torch.sort(sims, dim=1, descending=True, stable=True).indices[:, :k]
    return sims.gather(1, order), idx.gather(1, order)


def rank_votes(labels: torch.Tensor, sims: torch.Tensor, temperature: float) -> list[list[int]]:
    """Up to 5 classes per query from its neighbours' (labels, similarities), (b, k) each."""
    onehot = F.one_hot(labels, N_CLASSES).double()  # (b, k, classes): sums in a fixed order
    sims = sims.double()
    votes = torch.einsum("bkc,bk->bc", onehot, (sims / temperature).exp())
    summed = torch.einsum("bkc,bk->bc", onehot, sims)
    return rank_classes(votes, summed, onehot.sum(1) > 0)


def rank_classes(votes: torch.Tensor, summed: torch.Tensor, voted: torch.Tensor) -> list[list[int]]:
    """Up to 5 classes per row, (b, classes) each: voted classes only, by votes, then summed
    similarity, then the lower class index (stable sorts, least significant key first: the
    same order on any device)."""
    order = torch.sort(-summed, dim=1, stable=True).indices  # ties keep the class order
    for key in (votes, voted.double()):
        order = order.gather(1, torch.sort(-key.gather(1, order), dim=1, stable=True).indices)
    top = order[:, :5]
    keep = voted.gather(1, top).cpu()
    return [row[kept].tolist() for row, kept in zip(top.cpu(), keep, strict=True)]


def knn_head(
    features: torch.Tensor, labels: torch.Tensor, device: torch.device, *, on_device: bool = True
) -> KnnHead:
    """The k-NN head; `on_device` False keeps the bank on the host, streamed in blocks."""
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    bank = F.normalize(features.float(), dim=1).to(dtype)
    bank = bank.to(device) if on_device else (bank.pin_memory() if device.type == "cuda" else bank)
    meta = {
        "protocol": f"k-NN k={KNN_K}, cosine, T={KNN_TEMPERATURE}",
        "train_images": len(bank),
        "bank": "device" if on_device else f"host, streamed in blocks of {KNN_BANK_BLOCK} rows",
    }
    return KnnHead(bank, labels, meta=meta, bank_block=KNN_BANK_BLOCK, streamed=not on_device)
