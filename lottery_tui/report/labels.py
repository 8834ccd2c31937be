"""The words every result carries about how it was obtained, so paired and aggregate-only
numbers are never confused (tests and the renderer match on them)."""

from __future__ import annotations

PAIRED = "paired (per-image)"
AGGREGATE = "aggregate-only (unpaired)"
IMAGE_BOOTSTRAP = "joint image bootstrap"
BINOMIAL = "parametric binomial simulation (aggregate-only)"
MIXED = "mixed: paired where both models have per-image data, aggregate-only elsewhere"

OVER_MODELS = "over models: assumes the models are an independent sample of a population"
TOP_SELECTED = "conditional on --top {top} selecting the best on {reference}"
TWINS_COUNTED_ONCE = "{n} second image size(s) of the same weights counted once"
UNADJUSTED = "unadjusted: a per-comparison interval beside {adjust}-adjusted p-values"
