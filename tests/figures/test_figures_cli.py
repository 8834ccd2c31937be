"""`lottery figure` and `lottery report --figures`: files, links, and one-line errors."""

from __future__ import annotations

from pathlib import Path

from lottery_tui.cli.main import main
from lottery_tui.figures import KINDS

SMALL = ["--top", "5", "--resamples", "50"]


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_figure_writes_the_file_it_prints(shipped_db: Path, tmp_path: Path, capsys) -> None:
    target = tmp_path / "cd.pdf"
    code, out, err = run(
        ["figure", "cd", "-o", str(target), "--db", str(shipped_db), *SMALL], capsys
    )
    assert (code, err) == (0, "")
    assert out == f"{target}\n" and target.read_bytes().startswith(b"%PDF")


def test_figure_width_and_target(shipped_db: Path, tmp_path: Path, capsys) -> None:
    target = tmp_path / "s.svg"
    args = [
        "figure",
        "scatter",
        "-o",
        str(target),
        "--width",
        "double",
        "--target",
        "imagenet-r",
        "--db",
        str(shipped_db),
        *SMALL,
    ]
    code, _, err = run(args, capsys)
    assert (code, err) == (0, "")
    svg = target.read_text()
    assert 'width="504pt"' in svg and "imagenet-r against imagenet" in svg


def test_bad_kind_suffix_or_width_is_one_line_exit_2(shipped_db, tmp_path, capsys) -> None:
    db = ["--db", str(shipped_db)]
    cases = [
        (["figure", "pie", "-o", str(tmp_path / "f.svg")], "unknown figure kind 'pie'"),
        (["figure", "tau", "-o", str(tmp_path / "f.jpg")], "unknown figure format '.jpg'"),
        (
            [
                "figure",
                "tau",
                "-o",
                str(tmp_path / "f"),
            ],
            "unknown figure format '(no suffix)'",
        ),
        (["figure", "tau", "-o", str(tmp_path / "f.svg"), "--width", "wide"], "unknown width"),
        (["figure", "tau", "-o", str(tmp_path / "no" / "f.svg"), *SMALL], "no such folder"),
    ]
    for args, message in cases:
        code, out, err = run([*args, *db], capsys)
        assert code == 2 and out == ""
        assert err.startswith("lottery: error: ") and message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_report_figures_writes_and_links_every_kind(shipped_db, tmp_path, capsys) -> None:
    folder = tmp_path / "figs"
    code, out, _ = run(
        ["report", "--figures", str(folder), "--db", str(shipped_db), *SMALL], capsys
    )
    assert code == 0
    kinds = list(KINDS)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{k}.svg" for k in kinds)
    tail = out[out.index("## Figures") :]
    assert [line for line in tail.splitlines() if line.startswith("![")] == [
        f"![{k}]({folder / (k + '.svg')})" for k in kinds
    ]


def test_report_figures_into_a_file_is_one_line_exit_2(shipped_db, tmp_path, capsys) -> None:
    blocker = tmp_path / "taken"
    blocker.write_text("a file, not a folder")
    code, out, err = run(
        ["report", "--figures", str(blocker), "--db", str(shipped_db), *SMALL], capsys
    )
    assert (code, out) == (2, "")
    assert err == f"lottery: error: {blocker}: cannot make the figures folder: File exists\n"
