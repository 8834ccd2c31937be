"""The feature cache keeps a chunk it could not read because of the filesystem, and recomputes
only a damaged one."""

from __future__ import annotations

import errno

import pytest
import torch

from lottery_tui.probe.cache import Chunk, FeatureCache


def _saved(tmp_path) -> FeatureCache:
    cache = FeatureCache(tmp_path, {"checkpoint_sha256": "x"})
    cache.save(0, Chunk(torch.ones(2, 3), [0, 1], []))
    return cache


def test_a_transient_read_error_keeps_the_chunk(tmp_path, monkeypatch) -> None:
    cache = _saved(tmp_path)

    def eio(*args, **kwargs):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(torch, "load", eio)  # cache.py imports torch when it reads
    with pytest.raises(OSError, match="Input/output"):
        cache.load(0)
    assert cache.has(0)  # good features are not deleted for a filesystem hiccup


def test_a_damaged_chunk_is_removed_and_recomputed(tmp_path) -> None:
    cache = _saved(tmp_path)
    path = cache.dir / "chunk-00000.pt"
    path.write_bytes(path.read_bytes()[:20])
    assert cache.load(0) is None
    assert not cache.has(0)
