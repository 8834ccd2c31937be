"""Statistics for the views, from `lottery_tui.report.service`, turned into Arrow tables.

The report layer returns lists of dataclasses; the explorer shows tables. Flattening is generic
(nested dataclasses become `outer_inner` columns; lists are left to detail views) so a new field
in a result shows up without a change here.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

_SCALARS = (str, int, float, bool, type(None))


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            _flatten(f"{prefix}{f.name}_" if prefix or f.name else "", getattr(value, f.name), out)
        return
    key = prefix.rstrip("_")
    if isinstance(value, float) and math.isnan(value):
        out[key] = None
    elif isinstance(value, _SCALARS):
        out[key] = value
    elif hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        out[key] = value.item()


def flatten(record: Any) -> dict[str, Any]:
    """A dataclass as one flat row; lists and arrays inside it are left out."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(record):
        _flatten(f"{f.name}_", getattr(record, f.name), out)
    return out


def to_table(rows: Iterable[Any]) -> pa.Table:
    """Dataclass rows as an Arrow table, columns in field order."""
    flat = [flatten(r) for r in rows]
    if not flat:
        return pa.table({})
    names: list[str] = []
    for row in flat:
        names += [k for k in row if k not in names]
    return pa.Table.from_pylist([{n: row.get(n) for n in names} for row in flat])


def present(table: pa.Table, *, first: list[str], percent: list[str]) -> pa.Table:
    """Columns in `first` lead; fractions in `percent` become percentage points (2 decimals)."""
    for name in percent:
        if name in table.column_names:
            column = pc.round(pc.multiply(table.column(name).cast(pa.float64()), 100.0), 2)
            table = table.set_column(
                table.column_names.index(name), name, column.cast(pa.decimal128(7, 2))
            )
    names = table.column_names
    return table.select([n for n in first if n in names] + [n for n in names if n not in first])


def with_decisions(table: pa.Table, alpha: float = 0.05) -> pa.Table:
    """A per-dataset verdict of an A-vs-B comparison at the adjusted level (names are long, so
    the verdict says A or B; the view's header says which model is which)."""
    if table.num_rows == 0:
        return table
    deltas = table.column("delta").to_pylist()
    adjusted = table.column("p_adjusted").to_pylist()
    verdicts = []
    for delta, p in zip(deltas, adjusted, strict=True):
        if p is None or delta is None or p > alpha:
            verdicts.append("no difference detected")
        else:
            verdicts.append("A better" if delta > 0 else "B better")
    return table.append_column("verdict", pa.array(verdicts))
