"""Report defaults the CLI's `--help` states: here, free of heavy imports, so the parser stays
instant (tests/test_layering.py)."""

from __future__ import annotations

DEFAULT_FOCUS = 20  # models near the top studied in depth when --top is not given
