"""Every example query in docs/store.md runs through `lottery sql` on the shipped store."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lottery_tui.cli.main import main

DOC = Path(__file__).resolve().parents[2] / "docs" / "store.md"
QUERIES = re.findall(r"```sql\n(.*?)```", DOC.read_text(), re.S)


def test_the_doc_has_examples() -> None:
    assert len(QUERIES) >= 5


@pytest.mark.parametrize("query", QUERIES, ids=[f"example-{i}" for i in range(len(QUERIES))])
def test_documented_query_runs(query: str, shipped_db: Path, capsys) -> None:
    code = main(["sql", query, "--format", "json", "--db", str(shipped_db)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out), "every example returns rows on the shipped store"
