"""How statistics become table columns: percentage points, 3 decimals, p-values to 3 digits."""

from __future__ import annotations

import math
from decimal import Decimal

import pyarrow as pa

from lottery_tui.tui.stats import present


def test_present_rounds_statistics_and_p_values_to_significant_digits() -> None:
    table = pa.table(
        {
            "dataset": ["a", "b", "c"],
            "kendall_tau_b": [0.885796, math.inf, None],
            "p_value": [3.4567e-21, 0.51234, None],
            "p_adjusted": [2.0733e-20, 1.0, None],
            "delta": [0.031184, -0.0005, None],
        }
    )
    shown = present(table, first=["delta"], percent=["delta"]).to_pydict()
    assert list(shown) == ["delta", "dataset", "kendall_tau_b", "p_value", "p_adjusted"]
    assert shown["delta"] == [Decimal("3.12"), Decimal("-0.05"), None]
    assert shown["kendall_tau_b"] == [Decimal("0.886"), None, None]  # inf is not a statistic
    assert shown["p_value"] == [3.46e-21, 0.512, None]  # still numbers: they sort right
    assert shown["p_adjusted"] == [2.07e-20, 1.0, None]
