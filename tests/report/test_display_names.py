"""One display-name rule (issue 22): the report's `display_names` and the explorer's SQL
(`shown_name_sql`, used by store/explore.py's NAMES) name every identity alike."""

from __future__ import annotations

import duckdb

from lottery_tui.store.identity import ModelRef, display_names, shown_name_sql


def test_sql_and_python_rules_agree():
    refs = [
        ModelRef("timm", "resnet50", 1),
        ModelRef("analysing-relations", "resnet50", 2),
        ModelRef("timm", "vgg11", 3),
        ModelRef("testbed", "odd:name", 4),
    ]
    expected = display_names(refs)
    assert expected[refs[0]] == "timm:resnet50" and expected[refs[2]] == "vgg11"
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT source, name, {shown_name_sql('source', 'name')} FROM "
        "(SELECT unnest($s) AS source, unnest($n) AS name)",
        {"s": [r.source for r in refs], "n": [r.name for r in refs]},
    ).fetchall()
    shown = {(source, name): text for source, name, text in rows}
    assert shown == {(r.source, r.name): expected[r] for r in refs}
