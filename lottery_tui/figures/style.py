"""The look every figure shares, and the settings that make its bytes reproducible.

Everything goes through `rc()` (a `matplotlib.rc_context`), never the global rcParams, so a
notebook's own settings are left alone. Text stays text (SVG `fonttype none`, PDF Type 42) so
an editor can change it; the SVG hash salt is fixed and dates are left out of the metadata so
the same input gives the same bytes.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from lottery_tui.safe_text import safe_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WIDTHS = {"single": 3.5, "double": 7.0}  # inches: one and two columns of a paper
FORMATS = ("svg", "pdf", "png")
FONT_SIZE = 7.0  # points, the text size of a printed figure
ROW_HEIGHT = 0.16  # inches per labelled row (a gain's dataset, a model)
LABEL_MARGIN = 1.5  # inches dataset tick labels take left of the plot: its texts wrap to the rest

# Okabe & Ito (2008), "Color Universal Design": distinguishable under the common colour-vision
# deficiencies. Black first, then the seven colours.
PALETTE = (
    "#000000",
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
)
LINESTYLES = ("-", "--", ":", "-.")  # a second cue once the palette has been used once
GREY = "#999999"

RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "lottery-tui",
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "font.size": FONT_SIZE,
    "axes.titlesize": FONT_SIZE,
    "axes.labelsize": FONT_SIZE,
    "xtick.labelsize": FONT_SIZE - 1,
    "ytick.labelsize": FONT_SIZE - 1,
    "legend.fontsize": FONT_SIZE - 1,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.0,
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "path.simplify": False,
}
# zlib level of PNG files: 3 encodes in ~60 % of the default 6's time on these figures, the
# files ~2 % larger (bench/bench_figures.py); the bytes stay the same for the same input
SAVE_OPTIONS = {"svg": {}, "pdf": {}, "png": {"pil_kwargs": {"compress_level": 3}}}
METADATA = {
    "svg": {"Date": None, "Creator": "lottery-tui (matplotlib)"},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": "lottery-tui (matplotlib)"},
    "png": {"Software": "lottery-tui (matplotlib)"},
}


def rc() -> AbstractContextManager:
    """The shared settings, for building and for saving a figure (imports matplotlib)."""
    import matplotlib
    from cycler import cycler

    return matplotlib.rc_context({**RC, "axes.prop_cycle": cycler(color=PALETTE)})


def new_figure(width: str, height: float, layout: str | None = "constrained") -> Figure:
    """A Figure on the Agg canvas (never pyplot: no global figure registry, no GUI backend)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if width not in WIDTHS:
        from lottery_tui.errors import InputError

        raise InputError(f"--width: unknown width {width!r}; choose from {', '.join(WIDTHS)}")
    figure = Figure(figsize=(WIDTHS[width], height), layout=layout)
    FigureCanvasAgg(figure)
    return figure


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def linestyle(i: int) -> str:
    return LINESTYLES[(i // len(PALETTE)) % len(LINESTYLES)]


def name(text: str) -> str:
    """A model or dataset name as drawn: control characters escaped, and `$` kept literal
    (matplotlib would otherwise read `$...$` as mathtext)."""
    return safe_text(text).replace("$", r"\$")


def wrap(
    text: str, width: str, size: float = FONT_SIZE - 1, *, margin: float = 0.0, em: float = 0.62
) -> str:
    """`text` broken into lines that fit the figure's width less `margin` inches (`em`: the
    mean character width in em, wider for bold); a long name breaks where it must, never runs
    off the page."""
    import textwrap

    chars = max(16, int((WIDTHS[width] - margin) * 72 / (em * size)) - 2)
    return "\n".join(textwrap.wrap(text, chars, break_on_hyphens=False))
