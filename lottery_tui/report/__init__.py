"""Report adapter: loads arrays from the store and hands them to `analysis` (no textual, no torch).

`service` is the API the CLI and the explorer call; `render` turns its results into markdown or
JSON.
"""

from __future__ import annotations
