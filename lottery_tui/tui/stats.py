"""Statistics for the views, from `lottery_tui.report.service`, turned into Arrow tables.

The report layer returns lists of dataclasses; the explorer shows tables. Flattening is generic
(nested dataclasses become `outer_inner` columns; lists are left to detail views) so a new field
in a result shows up without a change here.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from lottery_tui.store.explore import ModelDetail, model_results
from lottery_tui.store.identity import ModelRef
from lottery_tui.tui.widgets.display import is_p_value

_SCALARS = (str, int, float, bool, type(None))


def _flatten(prefix: str, value: Any, out: dict[str, Any], shown: dict[ModelRef, str]) -> None:
    key = prefix.rstrip("_")
    if isinstance(value, ModelRef):  # an identity: the text the view shows for it
        out[key] = shown.get(value, value.qualified)
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            name = f"{prefix}{f.name}_" if prefix or f.name else ""
            _flatten(name, getattr(value, f.name), out, shown)
        return
    if isinstance(value, float) and math.isnan(value):
        out[key] = None
    elif isinstance(value, _SCALARS):
        out[key] = value
    elif hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        out[key] = value.item()


def flatten(record: Any, shown: dict[ModelRef, str] | None = None) -> dict[str, Any]:
    """A dataclass as one flat row; lists and arrays inside it are left out; a model identity
    is written as `shown` names it (SOURCE:NAME where it does not)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(record):
        _flatten(f"{f.name}_", getattr(record, f.name), out, shown or {})
    return out


def to_table(rows: Iterable[Any], shown: dict[ModelRef, str] | None = None) -> pa.Table:
    """Dataclass rows as an Arrow table, columns in field order (identities as `flatten`)."""
    flat = [flatten(r, shown) for r in rows]
    if not flat:
        return pa.table({})
    names: list[str] = []
    for row in flat:
        names += [k for k in row if k not in names]
    return pa.Table.from_pylist([{n: row.get(n) for n in names} for row in flat])


def present(table: pa.Table, *, first: list[str], percent: list[str]) -> pa.Table:
    """Columns in `first` lead; fractions in `percent` become percentage points (2 decimals),
    other statistics get 3 decimals. p-values keep 3 significant digits instead: fixed decimals
    would print 0 for p = 1e-20 and hide which is smaller."""
    for i, name in enumerate(table.column_names):
        column = table.column(name)
        if name in percent:
            scaled = pc.round(pc.multiply(column.cast(pa.float64()), 100.0), 2)
            table = table.set_column(i, name, scaled.cast(pa.decimal128(7, 2)))
        elif pa.types.is_floating(column.type) and is_p_value(name):
            rounded = [None if p is None else float(f"{p:.3g}") for p in column.to_pylist()]
            table = table.set_column(i, name, pa.array(rounded, pa.float64()))
        elif pa.types.is_floating(column.type):
            finite = pc.if_else(pc.is_finite(column), column, pa.scalar(None, column.type))
            table = table.set_column(i, name, pc.round(finite, 3).cast(pa.decimal128(18, 3)))
    names = table.column_names
    return table.select([n for n in first if n in names] + [n for n in names if n not in first])


def with_decisions(table: pa.Table, alpha: float = 0.05) -> pa.Table:
    """A per-dataset verdict of an A-vs-B comparison at the adjusted level, by the report's own
    rule (`analysis.gains.direction`; names are long, so the verdict says A or B and the view's
    header says which model is which)."""
    if table.num_rows == 0:
        return table
    from analysis.gains import direction  # the statistics stack loads with the first result

    deltas = table.column("delta").to_pylist()
    adjusted = table.column("p_adjusted").to_pylist()
    words = {1: "A better", -1: "B better", 0: "no difference detected"}
    verdicts = [words[direction(d, p, alpha)] for d, p in zip(deltas, adjusted, strict=True)]
    return table.append_column("verdict", pa.array(verdicts))


def model_detail(con: duckdb.DuckDBPyConnection, model: str, reference: str) -> ModelDetail:
    """One model (as the explorer shows it) on every dataset, with a 95 % Wilson interval from
    k/n and where it came from.

    With aggregate results only k/n is known, so the interval is the per-model sampling interval
    of the aggregate-only mode in the stats protocol (Wilson, z = 1.96); k = round(top-1 x n).
    """
    found = model_results(con, model, reference)
    return dataclasses.replace(found, per_dataset=with_wilson_interval(found.per_dataset))


def with_wilson_interval(per_dataset: pa.Table) -> pa.Table:
    """`ci_low`/`ci_high` (percent) after `top1`: the 95 % Wilson interval of k/n, from the
    statistics layer so the explorer and the reports share one implementation."""
    from analysis.intervals import wilson  # here: scipy would cost the first screen ~0.5 s

    lows: list[Decimal | None] = []
    highs: list[Decimal | None] = []
    tops = per_dataset.column("top1").to_pylist()
    sizes = per_dataset.column("n_images").to_pylist()
    for top1, n in zip(tops, sizes, strict=True):
        if top1 is None or not n:
            lows.append(None)
            highs.append(None)
            continue
        interval = wilson(round(float(top1) / 100 * n), n)
        lows.append(_percent(interval.low))
        highs.append(_percent(interval.high))
    at = per_dataset.column_names.index("top1") + 1
    per_dataset = per_dataset.add_column(at, "ci_low", pa.array(lows, pa.decimal128(5, 2)))
    return per_dataset.add_column(at + 1, "ci_high", pa.array(highs, pa.decimal128(5, 2)))


def _percent(fraction: float) -> Decimal:
    return Decimal(f"{100 * fraction:.2f}")
