"""Shared fixtures: stores built once per test session from the shipped `data/`.

`shipped_db` and `empty_db` are read-only by convention: a test that writes copies the file
first (`copy_store`), so tests stay independent and the session builds each store once.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from lottery_tui.store.seed import build_store


@pytest.fixture(scope="session")
def shipped_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a store with all shipped results (1,556 timm models x 8 datasets, 15 models'
    per-image predictions on imagenet and imagenet-real). Do not write to it: copy it."""
    path = tmp_path_factory.mktemp("shipped") / "results.duckdb"
    build_store(path)
    return path


@pytest.fixture(scope="session")
def empty_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a store with the schema, builtin datasets, classes, val labels and ReaL label
    sets, but no results. Do not write to it: copy it."""
    path = tmp_path_factory.mktemp("empty") / "results.duckdb"
    build_store(path, with_results=False)
    return path


@pytest.fixture
def copy_store(tmp_path: Path) -> Callable[[Path], Path]:
    """Copy a session store into this test's tmp dir, for tests that write."""

    def copy(source: Path) -> Path:
        target = tmp_path / f"copy-{source.parent.name}.duckdb"
        shutil.copyfile(source, target)
        return target

    return copy


# tests/probe needs torch throughout (its conftest builds models): every test there is marked
# `torch` (tests/probe/conftest.py), and without torch the folder is not even collected, so
# `pytest -m "not torch"` runs the rest on an install without the probe extra.
def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


collect_ignore = [] if _installed("torch") else ["probe"]
