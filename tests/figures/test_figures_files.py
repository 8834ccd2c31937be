"""Figure files: the same bytes twice, text kept as text, names escaped, all-or-nothing
writes, and matplotlib loaded only when a figure is drawn."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lottery_tui.errors import InputError
from lottery_tui.figures import make_figure, write_figure
from lottery_tui.store.identity import ModelRef

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("fmt", ["svg", "pdf", "png"])
def test_the_same_input_gives_the_same_bytes(shipped_report, tmp_path: Path, fmt: str) -> None:
    report, population = shipped_report
    a = write_figure(make_figure(report, "bump", population=population), tmp_path / f"a.{fmt}")
    b = write_figure(make_figure(report, "bump", population=population), tmp_path / f"b.{fmt}")
    assert a.read_bytes() == b.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"a.{fmt}", f"b.{fmt}"]


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_laid_out_once_is_matplotlibs_own_save(shipped_report, tmp_path: Path, fmt: str) -> None:
    """write_figure runs the layout engine itself before saving (skipping matplotlib's dry
    draw): the bytes are those of matplotlib's own save, and the figure keeps its engine."""
    import io

    from lottery_tui.figures.style import METADATA, SAVE_OPTIONS, rc

    report, _ = shipped_report
    for kind in ("gains", "ranks"):
        figure = make_figure(report, kind)
        engine, dpi, canvas = figure.get_layout_engine(), figure.dpi, figure.canvas
        ours = write_figure(figure, tmp_path / f"{kind}.{fmt}").read_bytes()
        assert figure.get_layout_engine() is engine and figure.dpi == dpi
        assert figure.canvas is canvas
        theirs = io.BytesIO()
        with rc():
            make_figure(report, kind).savefig(
                theirs, format=fmt, metadata=METADATA[fmt], **SAVE_OPTIONS[fmt]
            )
        assert ours == theirs.getvalue()


def test_files_carry_no_date(shipped_report, tmp_path: Path) -> None:
    report, _ = shipped_report
    svg = write_figure(make_figure(report, "tau"), tmp_path / "f.svg").read_text()
    pdf = write_figure(make_figure(report, "tau"), tmp_path / "f.pdf").read_bytes()
    assert "<dc:date>" not in svg
    assert b"/CreationDate" not in pdf and b"/ModDate" not in pdf


def test_text_stays_text(shipped_report, tmp_path: Path) -> None:
    """SVG text as <text> elements (fonttype none); PDF fonts embedded as TrueType (Type 42),
    never as Type 3 outlines: an editor can change either."""
    report, _ = shipped_report
    svg = write_figure(make_figure(report, "ranks"), tmp_path / "f.svg").read_text()
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert any("Rank uncertainty on imagenet" in t for t in texts)
    first = report.names()[report.rank_distribution.rows[0].model]
    assert any(first[:10] in t for t in texts)
    pdf = write_figure(make_figure(report, "ranks"), tmp_path / "f.pdf").read_bytes()
    assert b"/FontFile2" in pdf and b"/Type3" not in pdf


def test_names_are_escaped(shipped_report, tmp_path: Path) -> None:
    report, _ = shipped_report
    dist = report.rank_distribution
    evil = ModelRef("synthetic", "evil\x1b[31m\u202e$x$", -1)
    rows = [dataclasses.replace(dist.rows[0], model=evil), *dist.rows[1:]]
    bad = dataclasses.replace(
        report,
        rank_distribution=dataclasses.replace(dist, rows=rows),
        identities=[*report.identities, evil],
    )
    svg = write_figure(make_figure(bad, "ranks", "double"), tmp_path / "f.svg").read_text()
    assert "\x1b" not in svg and "\u202e" not in svg
    assert r"evil\x1b[31m\u202e$x$" in svg  # escaped, and $ kept literal (no mathtext)


def test_unknown_suffix_names_the_file_and_writes_nothing(shipped_report, tmp_path) -> None:
    report, _ = shipped_report
    with pytest.raises(InputError, match=r"f\.txt: unknown figure format '\.txt'"):
        write_figure(make_figure(report, "tau"), tmp_path / "f.txt")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_save_leaves_nothing_behind(shipped_report, tmp_path, monkeypatch) -> None:
    report, _ = shipped_report
    figure = make_figure(report, "tau")
    target = tmp_path / "f.svg"
    target.write_text("the old figure")

    def broken(out, **kwargs):
        out.write(b"<svg half")
        raise OSError("disk full")

    monkeypatch.setattr(figure, "savefig", broken)
    with pytest.raises(OSError, match="disk full"):
        write_figure(figure, target)
    assert [p.name for p in tmp_path.iterdir()] == ["f.svg"]
    assert target.read_text() == "the old figure"


def test_importing_the_cli_and_the_package_loads_no_matplotlib() -> None:
    code = (
        "import sys; import lottery_tui.figures; from lottery_tui.cli.main import build_parser; "
        "build_parser(); print('matplotlib' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
