"""The words every result carries about how it was obtained, so paired and aggregate-only
numbers are never confused (tests and the renderer match on them)."""

from __future__ import annotations

PAIRED = "paired (per-image)"
AGGREGATE = "aggregate-only (unpaired)"
IMAGE_BOOTSTRAP = "joint image bootstrap"
BINOMIAL = "parametric binomial simulation (aggregate-only)"
MIXED = "mixed: paired where both models have per-image data, aggregate-only elsewhere"
