"""Fixtures of the runs tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def results_dir(tmp_path: Path) -> Path:
    return tmp_path / "results"


@pytest.fixture(scope="session")
def _built_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lottery_tui.store.connection import connect

    path = tmp_path_factory.mktemp("store") / "results.duckdb"
    connect(path, read_only=True).close()
    return path


@pytest.fixture
def store(_built_store: Path, tmp_path: Path) -> Path:
    """A fresh copy of the default store (built once per session: it takes seconds)."""
    import shutil

    path = tmp_path / "db" / "results.duckdb"
    path.parent.mkdir()
    shutil.copy(_built_store, path)
    return path
