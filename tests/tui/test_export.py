"""Exports are whole or absent, in the format the suffix names; clipboard text is TSV."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from lottery_tui.errors import InputError
from lottery_tui.tui.export import export_table, to_markdown, to_tsv

TABLE = pa.table({"model": ["a|b", "c"], "top1": [81.5, None], "rank": [1, 2]})


def test_csv_and_parquet_round_trip(tmp_path):
    csv = export_table(TABLE, tmp_path / "t.csv")
    assert pa_csv.read_csv(csv).column("model").to_pylist() == ["a|b", "c"]
    parquet = export_table(TABLE, tmp_path / "t.parquet")
    assert pq.read_table(parquet).equals(TABLE)


def test_markdown_escapes_pipes(tmp_path):
    text = export_table(TABLE, tmp_path / "t.md").read_text()
    lines = text.splitlines()
    assert lines[0] == "| model | top1 | rank |"
    assert lines[2] == "| a\\|b | 81.5 | 1 |"
    assert lines[3] == "| c |  | 2 |"
    assert text == to_markdown(TABLE)


def test_unknown_suffix_names_the_file_and_writes_nothing(tmp_path):
    with pytest.raises(InputError, match=r"t\.xlsx: unknown export format"):
        export_table(TABLE, tmp_path / "t.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_missing_folder(tmp_path):
    with pytest.raises(InputError, match="folder does not exist"):
        export_table(TABLE, tmp_path / "nope" / "t.csv")


def test_tsv():
    assert to_tsv(["a", "b"], [[1, None], [2.5, "x"]]) == "a\tb\n1\t\n2.5\tx"
