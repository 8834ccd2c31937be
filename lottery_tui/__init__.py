"""lottery-tui: is an ImageNet gain real, or a benchmark-lottery win?

`store = lottery_tui.open()` is the Python API (`lottery_tui.api`, docs/python.md); it loads
nothing heavy until used.
"""

from __future__ import annotations

from lottery_tui.api import Options, Selection, Store, open

__version__ = "0.1.0"
__all__ = ["Options", "Selection", "Store", "open"]
