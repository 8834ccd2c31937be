"""A manifest is written in groups of files (bounded memory, issue 19 item 8): however its files
are grouped, the store ends the same, and a bad file in a late group still writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from lottery_tui.store import predictions_import

from . import test_manifest_import
from .conftest import fingerprint
from .test_manifest_import import make_files, public_rows, run, write_manifest

sketch_store = test_manifest_import.sketch_store  # its fixture: an imagenet-sketch with images


def test_grouped_writes_give_what_one_group_gives(
    sketch_store: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = make_files(tmp_path / "files")
    manifest = write_manifest(tmp_path / "files", entries)
    grouped = tmp_path / "grouped.duckdb"
    grouped.write_bytes(sketch_store.read_bytes())
    code, _, err = run(["import", "predictions", "--manifest", str(manifest)], sketch_store, capsys)
    assert code == 0, err
    groups: list[int] = []
    original = predictions_import._groups
    monkeypatch.setattr(predictions_import, "ROWS_PER_WRITE", 500)  # 300-row files: one each
    monkeypatch.setattr(
        predictions_import, "_groups", lambda items: groups.append(len(original(items))) or
        original(items),
    )  # fmt: skip
    code, _, err = run(["import", "predictions", "--manifest", str(manifest)], grouped, capsys)
    assert code == 0, err
    assert groups == [4, 2]  # imagenet's 4 files and imagenet-sketch's 2, one group each
    assert public_rows(grouped) == public_rows(sketch_store)


def test_a_bad_file_in_a_late_group_writes_nothing(
    sketch_store: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = make_files(tmp_path / "files")
    bad = tmp_path / "files" / "bad.csv"
    bad.write_text("image_id,pred\nnot-an-image.JPEG,1\n")
    manifest = write_manifest(tmp_path / "files", [*entries[:4], ("bad.csv", "late", "imagenet")])
    monkeypatch.setattr(predictions_import, "ROWS_PER_WRITE", 500)
    before = fingerprint(sketch_store)
    code, _, err = run(["import", "predictions", "--manifest", str(manifest)], sketch_store, capsys)
    assert code != 0
    assert err.startswith(f"lottery: error: {bad}, line 2, column image_id: image 'not-an-image")
    assert fingerprint(sketch_store) == before
