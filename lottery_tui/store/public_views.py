"""The public views (`results`, `predictions`) as pandas DataFrames, filtered: what the Python
API's `store.results(...)` and `store.predictions(...)` return.

Filters are bound parameters; `model` is a glob on the name (on `SOURCE:NAME` when it has a
':'), as everywhere else a user selects models (`identity.select_models`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from lottery_tui.store.identity import SEPARATOR

if TYPE_CHECKING:
    import pandas as pd

VIEWS = ("results", "predictions")


def read_view(
    con: duckdb.DuckDBPyConnection,
    view: str,
    *,
    model: str | None = None,
    dataset: str | None = None,
    source: str | None = None,
) -> pd.DataFrame:
    """Rows of a public view whose model matches the glob `model` (None: any), on `dataset`
    and from `source` (None: any), in the view's column order."""
    if view not in VIEWS:
        raise ValueError(f"not a public view: {view!r}")
    name = f"source || '{SEPARATOR}' || model" if model and SEPARATOR in model else "model"
    where = (
        f"($model IS NULL OR {name} GLOB $model)"
        " AND ($dataset IS NULL OR dataset = $dataset)"
        " AND ($source IS NULL OR source = $source)"
    )
    params = {"model": model, "dataset": dataset, "source": source}
    return con.execute(f"SELECT * FROM {view} WHERE {where}", params).df()
