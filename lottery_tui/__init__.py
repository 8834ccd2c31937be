"""lottery-tui: is an ImageNet gain real, or a benchmark-lottery win?"""

from __future__ import annotations

__version__ = "0.1.0"
