"""The README's counts of what the shipped store holds are the built store's counts."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

README = Path(__file__).resolve().parents[1] / "README.md"

# (pattern over the README, with its number as group 1; the source it counts)
CLAIMS = [
    (r"source `timm`: top-1/top-5 of ([\d,]+) ImageNet models", "timm"),
    (
        r"source `analysing-relations`: per-image predictions of ([\d,]+) models",
        "analysing-relations",
    ),
    (r"source `imagenet-testbed`: top-1 of ([\d,]+) models", "imagenet-testbed"),
]


def test_readme_counts_are_the_stores(shipped_db: Path) -> None:
    text = " ".join(README.read_text().split())
    con = duckdb.connect(str(shipped_db), read_only=True)
    try:
        stored = dict(con.execute("SELECT source, count(*) FROM models GROUP BY source").fetchall())
    finally:
        con.close()
    for pattern, source in CLAIMS:
        match = re.search(pattern, text)
        assert match, pattern
        assert int(match.group(1).replace(",", "")) == stored[source], source
    assert set(stored) == {source for _, source in CLAIMS}  # every shipped source is counted
