"""One independent random stream per unit of work, keyed by what the unit is.

A stream is `SeedSequence(seed, spawn_key=key)` where the key is derived from the unit's names
(a gain pair and a dataset, an image set, a model on a dataset): the same as
`SeedSequence(seed).spawn` gives a child, but found by name instead of by position, so adding
or removing a `--pair` or a dataset leaves every other unit's draws, and its interval, identical
at a given seed.
"""

from __future__ import annotations

import hashlib

import numpy as np

_WORDS = 4  # 128 bits of the unit's digest: collisions are not a practical concern


def unit_key(*unit: str) -> tuple[int, ...]:
    """A spawn key from the unit's names (stable across runs and platforms)."""
    digest = hashlib.blake2b("\x1f".join(unit).encode(), digest_size=4 * _WORDS).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, len(digest), 4))


def stream(seed: int, *unit: str) -> np.random.Generator:
    """The generator of one unit of work (e.g. `stream(seed, "pair", a, b, dataset)`)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=unit_key(*unit)))
