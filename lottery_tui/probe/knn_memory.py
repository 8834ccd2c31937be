"""The k-NN memory plan of a sweep: which banks of train features stay on the GPU, which are
streamed from host memory.

One function (`plan_banks`) decides it, from numbers known before any image is read (train
images, feature dimension, device), so `lottery runs plan` and the launch print the plan the probe
engine then follows. Torch-free: the launcher and the explorer's side import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

KNN_BANK_BLOCK = 65536  # bank rows per streamed block: 4096 queries x 65536 fp32 sims = 1 GB
KNN_DEVICE_BUDGET = 24 * 2**30  # bytes of k-NN banks a sweep keeps on its GPU (others: host)
GIB = 2**30


def bank_bytes(n_images: int, dim: int, device_type: str) -> int:
    """A k-NN bank's size: fp16 on a GPU, fp32 on a CPU (as `heads.knn_head` stores it)."""
    return n_images * dim * (2 if device_type == "cuda" else 4)


def bank_placement(sizes: Sequence[int], budget: int) -> list[bool]:
    """Which banks of a sweep go on the device (True), in order, while their total stays within
    `budget` bytes; the others stay on the host, streamed (12 ResNet-50 banks of the 1.28 M
    train images are 63 GB: not all on a 78 GB card with the model and its activations)."""
    placed, used = [], 0
    for size in sizes:
        placed.append(used + size <= budget)
        used += size if placed[-1] else 0
    return placed


@dataclass(frozen=True)
class Bank:
    model: str
    train_images: int
    dim: int
    bytes: int
    on_device: bool


@dataclass(frozen=True)
class BankPlan:
    """Where a sweep's k-NN banks live; `describe` is the line the plan and the job log print."""

    device_type: str
    budget: int
    block: int
    banks: tuple[Bank, ...]

    @property
    def device_bytes(self) -> int:
        return sum(b.bytes for b in self.banks if b.on_device)

    @property
    def host_bytes(self) -> int:
        return sum(b.bytes for b in self.banks if not b.on_device)

    def describe(self) -> str:
        on_device = sum(b.on_device for b in self.banks)
        return (
            f"k-NN memory plan: {on_device} of {len(self.banks)} bank(s) on {self.device_type} "
            f"({self.device_bytes / GIB:.1f} GiB of a {self.budget / GIB:.0f} GiB budget), "
            f"{len(self.banks) - on_device} streamed from host memory "
            f"({self.host_bytes / GIB:.1f} GiB) in blocks of {self.block} rows"
        )

    def details(self) -> list[str]:
        """One line per bank: model, train images x dim x bytes per value, where it stays."""
        width = 2 if self.device_type == "cuda" else 4
        return [
            f"{b.model}: {b.train_images} x {b.dim} x {width} B = {b.bytes / GIB:.2f} GiB, "
            + (f"on {self.device_type}" if b.on_device else "host (streamed)")
            for b in self.banks
        ]


def plan_banks(
    banks: Sequence[tuple[str, int, int]],
    device_type: str,
    budget: int | None = None,
    block: int | None = None,
) -> BankPlan:
    """The plan for a sweep's k-NN models, given as (model, train images, feature dim) in the
    sweep's order: banks go on the device in that order while within `budget`."""
    budget = KNN_DEVICE_BUDGET if budget is None else budget
    sizes = [bank_bytes(n, dim, device_type) for _, n, dim in banks]
    placed = bank_placement(sizes, budget)
    return BankPlan(
        device_type=device_type,
        budget=budget,
        block=KNN_BANK_BLOCK if block is None else block,
        banks=tuple(
            Bank(name, n, dim, size, here)
            for (name, n, dim), size, here in zip(banks, sizes, placed, strict=True)
        ),
    )
