"""One display-name rule (issue 22): `identity.display_names`, called by reports when they are
written and by the explorer (`store.explore.explorer_names`, the names its SQL joins)."""

from __future__ import annotations

import duckdb

import lottery_tui
from lottery_tui.store.explore import NAMES, explorer_names, names_params, reference_grid
from lottery_tui.store.identity import ModelRef, display_names


def test_the_rule():
    refs = [
        ModelRef("timm", "resnet50", 1),
        ModelRef("analysing-relations", "resnet50", 2),
        ModelRef("timm", "vgg11", 3),
        ModelRef("testbed", "odd:name", 4),
    ]
    shown = display_names(refs)
    assert shown == {
        refs[0]: "timm:resnet50",
        refs[1]: "analysing-relations:resnet50",
        refs[2]: "vgg11",
        refs[3]: "odd:name",
    }


def test_the_explorer_and_a_report_name_every_identity_alike(shipped_db):
    with duckdb.connect(str(shipped_db), read_only=True) as con:
        names = explorer_names(con)
        joined = con.execute(
            f"WITH {NAMES} SELECT source, model, shown FROM names", names_params(con)
        ).fetchall()
        grid = set(reference_grid(con, "imagenet").table.column("model").to_pylist())
    assert {(r.source, r.name): text for r, text in names.items()} == {
        (source, model): text for source, model, text in joined
    }
    shared = {r for r in names if sum(o.name == r.name for o in names) > 1}
    assert len(shared) == 8 and all(names[r] == r.qualified for r in shared)
    with lottery_tui.open(shipped_db) as store:
        report = store.report(top=3, resamples=20)
    assert report.data.names() == names  # every selected identity, the same text
    assert grid <= set(names.values())
