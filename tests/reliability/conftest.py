"""Helpers for the reliability suite: a byte-level store fingerprint and a directory listing,
to prove that a refused command changed nothing and wrote nothing."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from lottery_tui.store.seed import build_store


def file_fingerprint(path: Path) -> tuple[str, bool]:
    """sha256 of the store file's bytes, and whether a write-ahead log exists beside it."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest, path.with_name(path.name + ".wal").exists()


def files_under(root: Path) -> set[str]:
    """Every file and directory below `root`, relative to it."""
    out = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            out.add(os.path.relpath(os.path.join(dirpath, name), root))
    return out


@pytest.fixture(scope="session")
def results_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped store (timm results and per-image predictions). Copy it before writing."""
    path = tmp_path_factory.mktemp("reliability") / "results.duckdb"
    build_store(path)
    return path
