"""Two sources share a name (issue 22): a report's rows carry the identities, distinct, and
every output names them by the one rule (`identity.display_names`) over the report's
selection, made when the report is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lottery_tui
from lottery_tui.cli.main import main
from lottery_tui.store.identity import ModelRef, display_names

AR, TB = "analysing-relations:resnet50", "imagenet-testbed:resnet50"
ARGS = dict(models="*resnet5*", top=4, resamples=100)


@pytest.fixture(scope="module")
def report(shipped_db):
    with lottery_tui.open(shipped_db) as store:
        return store.report(pairs=[(AR, TB)], **ARGS)


def test_rows_carry_distinct_identities_of_one_name(report) -> None:
    gain = report.data.marginal_gains[-1]  # the named pair, after the adjacent ones
    assert isinstance(gain.model, ModelRef) and isinstance(gain.below, ModelRef)
    assert gain.model != gain.below and gain.model.name == gain.below.name == "resnet50"
    assert (gain.model.qualified, gain.below.qualified) == (AR, TB)
    population = report.data.identities
    assert len(set(population)) == len(population) == len(report.population.models)
    assert {m.source for m in population if m.name == "resnet50"} >= {
        "analysing-relations",
        "imagenet-testbed",
    }


def test_every_output_names_them_by_the_one_rule(report, shipped_db, capsys) -> None:
    names = report.data.names()
    assert names == display_names(report.data.identities)
    assert len(set(names.values())) == len(names)  # no two identities shown alike
    shared = {m for m in names if m.name == "resnet50"}
    assert {names[m] for m in shared} == {m.qualified for m in shared}
    alone = [m for m in names if sum(n.name == m.name for n in names) == 1]
    assert alone and all(names[m] == m.name for m in alone)  # a name no other has stays bare
    gains = report.gains
    assert tuple(gains.iloc[-1][["model", "below"]]) == (AR, TB)
    markdown = report.to_markdown()
    assert f": {AR}\n" in markdown and f": {TB}\n" in markdown
    written = json.loads(report.to_json())
    assert (written["marginal_gains"][-1]["model"], written["marginal_gains"][-1]["below"]) == (
        AR,
        TB,
    )
    for row, ref in zip(
        written["rank_distribution"]["rows"], report.data.rank_distribution.rows, strict=True
    ):
        assert (row["model"], row["identity"]) == (names[ref.model], ref.model.qualified)
    flags = f"--models {ARGS['models']} --top 4 --resamples 100 --pair {AR} {TB} --format json"
    assert main(["--db", str(Path(shipped_db)), "report", *flags.split()]) == 0
    assert capsys.readouterr().out == report.to_json()
