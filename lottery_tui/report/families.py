"""Which datasets count as independent evidence: one per family of datasets built from one
another (store roles: a subset, relabelling or version of X is in X's family).

ImageNet val's -clean subsets and ReaL re-test val's own images, and V2's three versions come
from one candidate pool: counting each as a variant would multiply one piece of evidence in
"holds on every variant", the lottery index, the swap count and Friedman's blocks.
"""

from __future__ import annotations

Roles = dict[str, tuple[str, str | None]]  # dataset -> (role, the dataset it comes from)


def family(dataset: str, roles: Roles) -> str:
    """The variant a dataset comes from, following subset / relabelling / version links."""
    seen = {dataset}
    while (parent := roles.get(dataset, ("variant", None))[1]) is not None and parent not in seen:
        dataset = parent
        seen.add(dataset)
    return dataset


def one_per_family(datasets: list[str], roles: Roles) -> list[str]:
    """The first dataset of each family in `datasets`' order, its root instead when selected."""
    chosen: dict[str, str] = {}
    for d in datasets:
        root = family(d, roles)
        if root not in chosen or d == root:
            chosen[root] = d
    return [d for d in datasets if d in chosen.values()]


def independent(datasets: list[str], roles: Roles, reference: str) -> list[str]:
    """The variants that count as independent evidence about a reference gain: one per family,
    the reference's own family left out (its subsets and relabellings re-test its images)."""
    skip = family(reference, roles)
    return one_per_family([d for d in datasets if family(d, roles) != skip], roles)


def role_label(dataset: str, roles: Roles) -> str:
    """'variant', or e.g. 'subset of imagenet': how a dataset's role is shown."""
    role, of = roles.get(dataset, ("variant", None))
    return role if of is None else f"{role} of {of}"
