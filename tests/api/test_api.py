"""The public Python API (issue 22): `lottery_tui.open()`, DataFrames out, and the CLI's own
Markdown and JSON byte for byte."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import lottery_tui
from lottery_tui.api import MissingExtraError
from lottery_tui.cli.main import main
from lottery_tui.errors import InputError, LotteryError, ReadOnlyViolation

SWIN = "swin_base_patch4_window7_224"
CONVNEXT = "convnext_tiny"


@pytest.fixture(scope="module")
def store(shipped_db):
    with lottery_tui.open(shipped_db) as opened:
        yield opened


def cli(db: Path, command: str, capsys) -> str:
    assert main(["--db", str(db), *command.split()]) == 0
    return capsys.readouterr().out


def test_results_and_predictions_are_the_public_views(store, shipped_db):
    with duckdb.connect(str(shipped_db), read_only=True) as con:
        expected = con.execute("SELECT * FROM results ORDER BY ALL").df()
        (n_swin,) = con.execute(
            "SELECT count(*) FROM predictions WHERE model = ? AND dataset = 'imagenet'", [SWIN]
        ).fetchone()
    got = store.results().sort_values(list(expected.columns)).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)
    timm = store.results(source="timm", dataset="imagenet-r", model="convnext*")
    assert len(timm) > 3 and set(timm["source"]) == {"timm"}
    assert timm["model"].str.startswith("convnext").all()
    qualified = store.results(model=f"analysing-relations:{SWIN}")
    assert set(qualified["model"]) == {SWIN} and set(qualified["source"]) == {"analysing-relations"}
    rows = store.predictions(model=SWIN, dataset="imagenet")
    assert len(rows) == n_swin == 50_000
    assert list(rows.columns)[:5] == ["model", "dataset", "image_id", "pred", "correct"]


def test_sql_is_read_only_and_errors_are_lottery_errors(store):
    frame = store.sql("SELECT 1 AS one; SELECT count(*) AS n FROM results")
    assert list(frame.columns) == ["n"] and frame["n"][0] > 10_000
    with pytest.raises(ReadOnlyViolation, match="read-only"):
        store.sql("DELETE FROM results")
    with pytest.raises(InputError, match="query failed"):
        store.sql("SELECT * FROM no_such_table")


def test_report_is_byte_identical_to_the_cli(store, shipped_db, capsys):
    flags = "--source analysing-relations --resamples 200 --seed 4 --alpha 0.1 --top 6"
    report = store.report(source="analysing-relations", resamples=200, seed=4, alpha=0.1, top=6)
    assert report.to_markdown() == cli(shipped_db, f"report {flags}", capsys)
    assert report.to_json() == cli(shipped_db, f"report {flags} --format json", capsys)
    objects = store.report(
        lottery_tui.Selection(source="analysing-relations"),
        lottery_tui.Options(resamples=200, seed=4, alpha=0.1),
        top=6,
    )
    assert objects.to_json() == report.to_json()


def test_report_frames_name_level_method_and_units(store):
    report = store.report(source="analysing-relations", resamples=200, alpha=0.1, top=5)
    gains = report.gains
    assert len(gains) == 4
    assert {"gain_pp", "ci90_low_pp", "ci90_high_pp", "ci_method", "p_adjusted_holm"} <= set(
        gains.columns
    )
    first = report.data.marginal_gains[0]
    assert gains["gain_pp"][0] == pytest.approx(100 * first.delta)
    assert gains["ci90_low_pp"][0] == pytest.approx(100 * first.ci_low)
    agreement = report.rank_agreement
    assert agreement["dataset"].tolist() == ["imagenet-real"]
    assert {"ci90_low_over_models", "ci90_low_over_images", "ci_method_over_models"} <= set(
        agreement.columns
    )
    ranks = report.rank_uncertainty
    assert ranks["top1_pct"].tolist() == pytest.approx(
        [100 * r.accuracy for r in report.data.rank_distribution.rows]
    )
    assert {"rank_ci90_low", "rank_ci90_high", "top1_ci90_low_pct"} <= set(ranks.columns)
    summary = report.summary
    assert len(summary) == 1 and summary["n_gains"][0] == 4
    assert summary["text"][0] == report.data.summary.text()


def test_compare_is_byte_identical_to_the_cli(store, shipped_db, capsys, monkeypatch):
    result = store.compare(SWIN, CONVNEXT, resamples=300, source="analysing-relations")
    flags = f"compare {SWIN} {CONVNEXT} --resamples 300 --source analysing-relations"
    assert result.to_markdown() == cli(shipped_db, f"{flags} --wide", capsys)
    monkeypatch.setenv("COLUMNS", "80")  # the CLI fits its table to the terminal
    assert result.to_markdown(width=80) == cli(shipped_db, flags, capsys)
    assert result.to_json() == cli(shipped_db, f"{flags} --format json", capsys)
    assert result.rows["dataset"].tolist() == ["imagenet", "imagenet-real"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.report(source="nobody"), "nobody"),
        (lambda s: s.report(alpha=1.5), "alpha"),
        (lambda s: s.report(adjust="nope"), "adjustment"),
        (lambda s: s.report(top=0), "top"),
        (lambda s: s.compare("no-such-model", SWIN), "no-such-model"),
    ],
)
def test_bad_arguments_are_the_cli_error_types(store, call, message):
    with pytest.raises(LotteryError, match=message):
        call(store)


def test_figure_without_the_figures_module_names_the_extra(store, monkeypatch):
    report = store.report(source="analysing-relations", resamples=50, top=3)
    monkeypatch.setitem(sys.modules, "lottery_tui.figures", None)  # as if not installed
    with pytest.raises(MissingExtraError, match=r"\[figures\] extra"):
        report.figure("tau")


def test_import_is_light():
    """`import lottery_tui` loads none of duckdb, pandas, numpy (the CLI's --help stays fast)."""
    code = (
        "import sys, lottery_tui; "
        "print(sorted(m for m in ('duckdb', 'pandas', 'numpy', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(
    ("flags", "message"),
    [("--alpha 1.5", "alpha: must be between 0 and 1"), ("--seed -2", "seed: must be")],
)
def test_cli_bad_options_are_one_line_errors(shipped_db, capsys, flags, message):
    for command in ("report", f"compare {SWIN} {CONVNEXT}"):
        assert main(["--db", str(shipped_db), *command.split(), *flags.split()]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err and "Traceback" not in err
