"""`lottery report` and `lottery compare` end to end through the CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

from lottery_tui.cli.main import main


def lottery(db: Path, command: str) -> int:
    """`lottery --db DB COMMAND...`, the command written as one space-separated string."""
    return main(["--db", str(db), *command.split()])


def test_report_json(shipped_db, capsys):
    code = lottery(
        shipped_db, "report --source analysing-relations --format json --resamples 200 --seed 1"
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rank_agreement"][0]["dataset"] == "imagenet-real"
    assert data["options"]["seed"] == 1


def test_report_markdown_with_top_and_datasets(shipped_db, capsys):
    code = lottery(
        shipped_db,
        "report --source timm --top 5 --datasets imagenet-r imagenetv2-matched-frequency "
        "--resamples 200",
    )
    assert code == 0
    out = capsys.readouterr().out
    assert out.startswith("# Benchmark-lottery report: reference imagenet")
    assert "| imagenet-r | 5 |" in out
    assert "imagenet-sketch" not in out


def test_compare_json(shipped_db, capsys):
    # the shipped testbed has a resnet50 and a vgg11 too (other checkpoints): name the source
    code = lottery(
        shipped_db,
        "compare resnet50 vgg11 --source analysing-relations --format json --resamples 500 "
        "--adjust bh",
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    rows = data["comparisons"]
    assert [r["dataset"] for r in rows] == ["imagenet", "imagenet-real"]
    assert all(r["adjust_method"] == "bh" for r in rows)
    assert rows[0]["n10"] > rows[0]["n01"]


def test_unknown_model_is_one_line_and_nonzero(shipped_db, capsys):
    code = lottery(shipped_db, "compare analysing-relations:resnet50 nope")
    assert code != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("lottery: error:") and "nope" in err
    assert len(err.splitlines()) == 1


def test_report_judges_a_named_pair(shipped_db, capsys):
    code = lottery(
        shipped_db,
        "report --source analysing-relations --datasets imagenet-real --top 2 "
        "--pair resnet50 vgg11 --format json --resamples 200",
    )
    assert code == 0
    gains = json.loads(capsys.readouterr().out)["marginal_gains"]
    assert [(g["model"], g["below"]) for g in gains][-1] == ("resnet50", "vgg11")
    assert gains[-1]["verdict"] == "real gain"  # +11 pp, confirmed on ReaL
