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


def test_with_decisions_uses_the_report_rule_at_the_boundary():
    """p adj. == alpha is not significant, as in the report's verdicts (strictly below alpha)."""
    from lottery_tui.tui.stats import with_decisions

    table = pa.table(
        {
            "delta": [0.01, -0.01, 0.01, 0.02, None],
            "p_adjusted": [0.01, 0.01, 0.05, None, 0.001],
        }
    )
    assert with_decisions(table).column("verdict").to_pylist() == [
        "A better",
        "B better",
        "no difference detected",
        "no difference detected",
        "no difference detected",
    ]
    relaxed = with_decisions(table, alpha=0.1).column("verdict").to_pylist()
    assert relaxed[2] == "A better"
