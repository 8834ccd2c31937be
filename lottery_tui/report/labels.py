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
INDEPENDENCE_APPROXIMATION = (
    "independence approximation: independent binomials ignore that models err on the same "
    "images, so flips are overstated"
)


def resampling_label(methods: list[str]) -> str:
    """How flip and lottery probabilities were drawn: the image bootstrap, or (where any dataset
    had aggregates only) the binomial simulation, labelled as an independence approximation."""
    if all(m == IMAGE_BOOTSTRAP for m in methods):
        return IMAGE_BOOTSTRAP
    return f"{BINOMIAL}; {INDEPENDENCE_APPROXIMATION}"
