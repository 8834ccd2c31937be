"""Column widths that fit every number, not the widest and narrowest only.

textual-fastdatatable sizes a numeric column by measuring its maximum and minimum. That is
right for integers, but a float or decimal between them can print longer (`3.62667` in a
column whose extremes are `10` and `1.5`), and was then cut without a mark to the header's
width (`3.62`). Here every distinct value of such a column is measured as the cell will show
it (`display_text`, the table's own formatting), so a cell always shows its whole value.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.types as pt
from textual_fastdatatable import ArrowBackend
from textual_fastdatatable.format import display_text


def widest_number(column: pa.ChunkedArray | pa.Array) -> int:
    """Cells needed by the longest of the column's floats or decimals as the table prints them."""
    import pyarrow.compute as pc  # on first use: it costs start-up time otherwise

    values = pc.unique(column.drop_null()).to_pylist()
    return max((len(display_text(v)) for v in values), default=0)


class WholeValuesBackend(ArrowBackend):
    """An Arrow backend whose float and decimal columns are as wide as their longest value."""

    def _measure(self, arr: pa.ChunkedArray | pa.Array) -> int:
        if pt.is_floating(arr.type) or pt.is_decimal(arr.type):
            return widest_number(arr)
        return super()._measure(arr)
