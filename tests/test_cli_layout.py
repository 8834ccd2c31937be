"""`lottery models` and `lottery datasets` at any terminal width: whole columns dropped (and
counted) to fit, never a cut value; --wide, CSV and JSON keep every column."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from lottery_tui.cli.main import main
from lottery_tui.report.fit import columns_that_fit

WIDTHS = [80, 100, 120, 133, 200]
NOTE = re.compile(r"\((\d+) columns? not shown at (\d+) columns: (.*); --wide shows all\)")


def lottery(args: list[str], capsys, width: int | None = None, monkeypatch=None) -> str:
    if width is not None:
        monkeypatch.setenv("COLUMNS", str(width))
    code = main(args)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def table_and_note(out: str) -> tuple[list[str], list[str]]:
    """The table's lines (header to the row count) and the note's dropped column names."""
    lines = out.splitlines()
    end = next(i for i, line in enumerate(lines) if re.fullmatch(r"\(\d+ rows?\)", line))
    match = NOTE.search(" ".join(lines[end + 1 :]))
    dropped = match.group(3).split(", ") if match else []
    if match:
        assert int(match.group(1)) == len(dropped)
    return lines[: end + 1], dropped


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(
    ("command", "key"),
    [(["models", "--like", "resnet50*"], "model"), (["datasets"], "dataset")],
)
def test_tables_fit_the_terminal_and_keep_every_value(
    shipped_db: Path, capsys, monkeypatch, width: int, command: list[str], key: str
) -> None:
    db = ["--db", str(shipped_db)]
    out = lottery([*command, *db], capsys, width, monkeypatch)
    lines, dropped = table_and_note(out)
    assert all(len(line) <= width for line in out.splitlines()), out
    full = list(csv.DictReader(io.StringIO(lottery([*command, *db, "--format", "csv"], capsys))))
    shown = lines[0].split()
    assert shown[0] == key
    assert sorted(shown + dropped) == sorted(full[0])  # every column shown or named as dropped
    # each shown cell is the whole CSV value (datasets: their count), row by row
    spans = [(m.start(), m.end()) for m in re.finditer(r"-+", lines[1])]
    assert len(spans) == len(shown)
    for line, row in zip(lines[2:-1], full, strict=True):
        for name, (start, end) in zip(shown, spans, strict=True):
            cell = line[start:end].strip()
            value = row[name]
            if name == "datasets":
                value = str(len(value.split(",")) if value else 0)
            assert cell == (value if value != "" else "NULL"), (name, line)


def test_models_at_80_columns_count_the_datasets_and_say_what_is_hidden(
    shipped_db: Path, capsys, monkeypatch
) -> None:
    out = lottery(["models", "--like", "*swav*", "--db", str(shipped_db)], capsys, 80, monkeypatch)
    lines, dropped = table_and_note(out)
    assert lines[0].split() == ["model", "source", "pretraining", "protocol", "datasets"]
    assert lines[2].split() == [
        "resnet50_swav", "imagenet-testbed", "self-supervised", "linear-probe", "11"
    ]  # fmt: skip
    assert dropped == ["framework", "family", "architecture", "img_size", "params_m", "same_as"]


def test_wide_and_csv_ignore_the_terminal(shipped_db: Path, capsys, monkeypatch) -> None:
    db = ["--db", str(shipped_db)]
    wide = lottery(["models", "--like", "*swav*", "--wide", *db], capsys, 80, monkeypatch)
    assert "not shown" not in wide
    assert wide.splitlines()[0].split()[-2:] == ["datasets", "same_as"]
    assert "imagenet,imagenet-a,imagenet-a-clean" in wide
    narrow = lottery(["models", "--format", "csv", *db], capsys, 80, monkeypatch)
    assert narrow == lottery(["models", "--format", "csv", *db], capsys, 200, monkeypatch)


def test_datasets_help_describes_the_columns(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["datasets", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "how many models have per-image predictions on it" in out and "--wide" in out


def test_columns_are_dropped_least_important_first_and_the_first_stays() -> None:
    widths = {"model": 70, "source": 16, "datasets": 8, "family": 6}

    def measure(names: list[str]) -> int:
        return sum(widths[n] for n in names) + 2 * (len(names) - 1)

    names = list(widths)
    assert columns_that_fit(names, ["model", "datasets", "source"], 80, measure) == (
        ["model", "datasets"],
        ["source", "family"],
    )
    assert columns_that_fit(names, names, 10, measure) == (["model"], names[1:])
    assert columns_that_fit(names, names, 200, measure) == (names, [])
