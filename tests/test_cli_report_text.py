"""The text `lottery compare` and `lottery report` print: a verdict line that agrees with the
rows, each method named once, tables that fit the terminal, prose wrapped, verdicts defined."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from analysis import gains as gains_rule
from lottery_tui.cli.main import main
from lottery_tui.report.selection import DEFAULT_FOCUS

WIDTHS = [80, 100, 120, 133, 200]
PAIRS = [
    ["resnet50_swav", "resnet50_simsiam"],  # aggregate-only, 11 datasets
    ["resnet50", "vgg11", "--source", "analysing-relations", "--resamples", "300"],  # paired
]


def lottery(args: list[str], capsys) -> str:
    code = main(args)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def table(out: str) -> tuple[list[str], list[list[str]]]:
    lines = [line for line in out.splitlines() if line.startswith("|")]
    split = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    return split[0], split[2:]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("pair", PAIRS, ids=["aggregate", "paired"])
def test_compare_fits_and_its_verdict_line_counts_its_rows(
    shipped_db: Path, capsys, monkeypatch, width: int, pair: list[str]
) -> None:
    db = ["--db", str(shipped_db)]
    monkeypatch.setenv("COLUMNS", str(width))
    out = lottery(["compare", *pair, *db], capsys)
    rows = json.loads(lottery(["compare", *pair, *db, "--format", "json"], capsys))["comparisons"]
    assert all(len(line) <= width for line in out.splitlines()), out
    # the verdict, computed here from the JSON rows
    better = sum(r["delta"] > 0 and r["p_adjusted"] < 0.05 for r in rows)
    worse = [r["dataset"] for r in rows if r["delta"] < 0 and r["p_adjusted"] < 0.05]
    unclear = [r["dataset"] for r in rows if r["p_adjusted"] >= 0.05]
    verdict = " ".join(out.split("\n\n")[1].split())
    assert verdict.startswith(f"Verdict: A is better on {better} of {len(rows)} datasets; ")
    assert f"worse on {len(worse)}" in verdict
    assert f"inconclusive on {', '.join(unclear) or 'none'}" in verdict
    assert f"holm-adjusted p < 0.05 over the {len(rows)} datasets compared" in verdict
    # each method once, not per row
    for method in {r["test"] for r in rows} | {r["ci_method"] for r in rows}:
        assert " ".join(out.split()).count(method) == 1, method
    # every shown delta is the row's whole value
    header, body = table(out)
    deltas = [cells[header.index("delta (pp)")] for cells in body]
    assert deltas == [f"{100 * r['delta']:+.2f}" for r in rows]
    # a column is shown or named as not shown, never cut
    wide, _ = table(lottery(["compare", *pair, *db, "--wide"], capsys))
    note = re.search(
        r"(\d+) columns? not shown at \d+ columns: (.*?); --wide", " ".join(out.split())
    )
    hidden = note.group(2).split(", ") if note else []
    assert sorted(header + hidden) == sorted(wide)
    assert not note or int(note.group(1)) == len(hidden)


def test_compare_wide_keeps_every_column(shipped_db: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    out = lottery(["compare", *PAIRS[1], "--wide", "--db", str(shipped_db)], capsys)
    header, _ = table(out)
    assert header == [
        "dataset", "images", "A (%)", "B (%)", "delta (pp)", "n10 / n01", "data", "p", "mid-p",
        "95% CI (pp)", "p adj.",
    ]  # fmt: skip
    assert "not shown" not in out


def test_report_wraps_prose_and_defines_each_verdict_once(shipped_db: Path, capsys) -> None:
    out = lottery(
        ["report", "--source", "timm", "--top", "8", "--resamples", "100", "--db", str(shipped_db)],
        capsys,
    )
    prose = [line for line in out.splitlines() if not line.startswith(("|", "#"))]
    assert max(len(line) for line in prose) <= 100
    for word in gains_rule.VERDICTS:
        assert out.count(f"- **{word}**:") == 1, word


def test_report_help_states_the_default_top(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"the top {DEFAULT_FOCUS})" in help_text and "--pair A B" in help_text
