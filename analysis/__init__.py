"""Pure statistics for benchmark-lottery questions: numpy/pandas in, dataclasses out.

Nothing here imports duckdb, textual or torch, so every function can be checked against
scipy/statsmodels on arrays alone.
"""

from __future__ import annotations
