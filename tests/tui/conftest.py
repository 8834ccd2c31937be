"""A small store for the explorer's tests, built with the real schema and seeded data.

The shipped store (`shipped_db`, from tests/conftest.py) is used where its size matters (the
tmux smoke test); these tests need a store that builds in milliseconds and whose numbers the
tests can reason about.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from textual.widgets import Input

from lottery_tui.store.predictions import replace_predictions_table
from lottery_tui.store.schema import create_schema
from lottery_tui.tui.app import LotteryApp
from lottery_tui.tui.screens.pair import PairScreen
from lottery_tui.tui.widgets.arrow_table import ArrowTable

DATASETS = (
    ("imagenet", "ImageNet val", 2000, 1000, False, None),
    ("imagenet-real", "ImageNet-ReaL", 2000, 1000, True, "imagenet"),
    ("imagenetv2-matched-frequency", "ImageNet-V2 MatchedFrequency", 1000, 1000, False, None),
    ("imagenet-sketch", "ImageNet-Sketch", 1500, 1000, False, None),
)
N_MODELS = 40
N_PRED_MODELS = 4
N_IMAGES = 2000


def model_names(n: int = N_MODELS) -> list[str]:
    return [f"net{i:02d}.synthetic" for i in range(n)]


def build_small_store(path: Path, seed: int = 7) -> Path:
    """40 models on 4 datasets; the first 4 also have per-image predictions on ImageNet val.

    Tables are filled with plain SQL, predictions through the store's own writer, so the test
    store follows the schema's layout of predictions whatever it is.
    """
    rng = np.random.default_rng(seed)
    con = duckdb.connect(str(path))
    create_schema(con)
    con.execute(
        "INSERT INTO sources (source_id, name, kind, path, sha256) "
        "VALUES (1, 'synthetic', 'import', 'tests/tui/conftest.py', 'abc123')"
    )
    con.executemany(
        "INSERT INTO datasets (dataset_id, display_name, n_images, n_classes, multi_label, "
        "shares_images_with, builtin) VALUES (?, ?, ?, ?, ?, ?, true)",
        [list(d) for d in DATASETS],
    )
    names = model_names()
    for i, name in enumerate(names, start=1):
        con.execute(
            "INSERT INTO models (model_id, source, name, base_name, framework, family, "
            "architecture, img_size, param_count, source_id) VALUES (?, 'synthetic', ?, ?, "
            "'supervised', 'net', 'net', 224, ?, 1)",
            [i, name, name.split(".")[0], float(10 + i)],
        )
    skill = np.sort(rng.uniform(60.0, 85.0, N_MODELS))[::-1]
    for k, (ds, _, n_images, *_rest) in enumerate(DATASETS):
        acc = np.clip(skill - 8.0 * k + rng.normal(0, 1.5 * k, N_MODELS), 1, 99)
        con.executemany(
            "INSERT INTO aggregate_results VALUES (?, ?, ?, ?, ?, 1)",
            [
                [i + 1, ds, round(float(a), 3), round(float(min(a + 12, 99.9)), 3), n_images]
                for i, a in enumerate(acc)
            ],
        )
    idx = np.arange(N_IMAGES)
    images = pa.table(
        {
            "idx": idx,
            "image_id": [f"ILSVRC2012_val_{j + 1:08d}.JPEG" for j in idx],
            "label": idx % 1000,
        }
    )
    con.register("images_in", images)
    con.execute("INSERT INTO images SELECT 'imagenet', idx, image_id, label FROM images_in")
    for m in range(N_PRED_MODELS):
        correct = rng.random(N_IMAGES) < (0.8 - 0.02 * m)
        preds = pa.table(
            {
                "model_id": np.full(N_IMAGES, m + 1),
                "source_id": np.ones(N_IMAGES, dtype=np.int64),
                "image_idx": idx,
                "pred": np.where(correct, idx % 1000, (idx + 1) % 1000),
            }
        )
        replace_predictions_table(con, preds, "imagenet")
    con.close()
    return path


@pytest.fixture(scope="session")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_small_store(tmp_path_factory.mktemp("store") / "small.duckdb")


PER_IMAGE_SOURCE = "per-image"


def build_two_source_store(path: Path) -> Path:
    """The small store with its models that have per-image predictions (the first
    `N_PRED_MODELS`) moved to a second source, like the shipped store's timm and
    analysing-relations sources."""
    build_small_store(path)
    con = duckdb.connect(str(path))
    con.execute(
        "INSERT INTO sources (source_id, name, kind, path, sha256) "
        "VALUES (2, ?, 'import', 'tests/tui/conftest.py', 'def456')",
        [PER_IMAGE_SOURCE],
    )
    for table in ("aggregate_results", "prediction_sets", "models"):
        con.execute(f"UPDATE {table} SET source_id = 2 WHERE model_id <= ?", [N_PRED_MODELS])
    con.execute(
        "UPDATE models SET source = ? WHERE model_id <= ?", [PER_IMAGE_SOURCE, N_PRED_MODELS]
    )
    con.close()
    return path


@pytest.fixture(scope="session")
def two_source_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_two_source_store(tmp_path_factory.mktemp("store") / "two-source.duckdb")


def make_app(db: Path, **options) -> LotteryApp:
    """The explorer on `db` as the tests drive it: no cursor blink (stable snapshots), no TTY
    watch (there is no terminal); `options` as LotteryApp takes them (reference, source)."""
    return LotteryApp(db=str(db), cursor_blink=False, watch_tty=False, **options)


async def settle(app: LotteryApp, pilot) -> None:
    """Wait for every worker and the messages they posted."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


def type_batch(app: LotteryApp, *keys: str) -> None:
    """Send `keys` the way one read from the terminal delivers them: all at once, no pause
    between them (unlike `pilot.press`, which waits for the app to idle after each key)."""
    from textual import events

    for key in keys:
        character = {"slash": "/", "space": " ", "question_mark": "?"}.get(key)
        if character is None and len(key) == 1:
            character = key
        event = events.Key(key, character)
        event.set_sender(app)
        app._driver.send_message(event)


async def open_picker(app: LotteryApp, pilot) -> PairScreen:
    """Open Lottery and press `c`."""
    await settle(app, pilot)
    await pilot.press("3")
    await settle(app, pilot)
    await pilot.press("c")
    await pilot.pause()
    assert isinstance(app.screen, PairScreen)
    return app.screen


async def type_pair(pilot, screen: PairScreen, a: str, b: str) -> None:
    screen.query_one("#pair-a", Input).value = a
    screen.query_one("#pair-b", Input).value = b
    screen.query_one("#pair-b", Input).focus()
    await pilot.press("enter")


async def pick_pair(app: LotteryApp, pilot, a: str, b: str) -> dict[str, dict]:
    """Open Lottery, press `c`, type A and B, compare: the compare pane's rows by dataset."""
    await type_pair(pilot, await open_picker(app, pilot), a, b)
    await settle(app, pilot)
    compare = app.query_one("#compare-table", ArrowTable)
    assert compare.title == f"{a} vs {b}"
    return {r["dataset"]: r for r in compare.shown.to_pylist()}
