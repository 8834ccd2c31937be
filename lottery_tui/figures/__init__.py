"""Publication figures of a report, drawn with matplotlib (the optional `[figures]` extra).

`make_figure(report, kind)` returns a `matplotlib.figure.Figure`; `write_figure` saves one to
svg/pdf/png (chosen by the suffix) with the settings that keep the bytes reproducible and the
text editable; `write_figures` writes every kind into a folder. matplotlib is imported only
when a figure is drawn, so importing this package (and `lottery --help`) stays fast.

`report` is a `lottery_tui.report.service.Report`, or any object holding one as `.data` or
`.raw` (the Python API's report object). `bump` and `scatter` also draw the selection's whole
population: pass its `Aggregates` as `population=`, or let the object carry it as
`.population`.
"""

from __future__ import annotations

import importlib
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lottery_tui.errors import InputError
from lottery_tui.figures.style import FORMATS, METADATA, SAVE_OPTIONS, WIDTHS, rc

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from lottery_tui.report.data import Aggregates
    from lottery_tui.report.service import Report

KINDS = ("tau", "gains", "bump", "scatter", "cd", "ranks")
NEEDS_POPULATION = ("bump", "scatter")

__all__ = ["FORMATS", "KINDS", "WIDTHS", "make_figure", "write_figure", "write_figures"]


def make_figure(
    report: Any,
    kind: str,
    width: str = "single",
    *,
    population: Aggregates | None = None,
    target: str | None = None,
) -> Figure:
    """The `kind` figure of `report` (`target`: the variant `scatter` plots; default the first
    one with a fit). InputError for an unknown kind or width, or when the report lacks what the
    kind shows (e.g. no Friedman test for `cd`)."""
    if kind not in KINDS:
        raise InputError(f"unknown figure kind {kind!r}; choose from {', '.join(KINDS)}")
    data = report_of(report)
    if reason := missing(data, kind):
        raise InputError(f"figure {kind!r}: {reason}")
    if population is None:
        population = getattr(report, "population", None)
    if kind in NEEDS_POPULATION and population is None:
        raise InputError(f"figure {kind!r} draws every selected model: pass population=")
    module = importlib.import_module(f"lottery_tui.figures.{kind}")
    with rc():
        if kind == "scatter":
            return module.draw(data, population, width, target=target)
        if kind in NEEDS_POPULATION:
            return module.draw(data, population, width)
        return module.draw(data, width)


def report_of(report: Any) -> Report:
    """The Report dataclass itself, or the one an API object holds as `.data` or `.raw`."""
    from lottery_tui.report.service import Report

    for candidate in (report, getattr(report, "data", None), getattr(report, "raw", None)):
        if isinstance(candidate, Report):
            return candidate
    raise TypeError(f"expected a Report (or an object with .data/.raw), got {type(report)!r}")


def check_output(path: str | os.PathLike[str]) -> tuple[Path, str]:
    """The absolute path and its format (svg, pdf or png, from the suffix); InputError naming
    the file for any other suffix or a folder that does not exist."""
    target = Path(path).absolute()
    suffix = target.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise InputError(
            f"{target}: unknown figure format {target.suffix or '(no suffix)'!r}; "
            f"use one of {', '.join('.' + f for f in FORMATS)}"
        )
    if not target.parent.is_dir():
        raise InputError(f"{target.parent}: no such folder")
    return target, suffix


def write_figure(figure: Figure, path: str | os.PathLike[str]) -> Path:
    """Save `figure` to `path` (format from the suffix) all or nothing: a temporary file in the
    same folder, renamed into place once complete. Returns the absolute path."""
    target, fmt = check_output(path)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "xb") as out, rc(), laid_out(figure, fmt):
            figure.savefig(out, format=fmt, metadata=METADATA[fmt], **SAVE_OPTIONS[fmt])
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


@contextmanager
def laid_out(figure: Figure, fmt: str) -> Iterator[None]:
    """The figure's layout engine run once, as matplotlib's own pre-save pass runs it (on the
    format's canvas, at the saving dpi), then held fixed while saving, so the save skips that
    pass's dry draw of every artist. The canvas switch is matplotlib's private helper (the
    extra pins matplotlib 3.11.2); tests/figures checks the bytes equal matplotlib's own save."""
    import matplotlib

    engine = figure.get_layout_engine()
    if engine is None:
        yield
        return
    dpi = figure.dpi
    canvas = figure.canvas
    try:
        with canvas._switch_canvas_and_return_print_method(fmt):
            figure.set_dpi(matplotlib.rcParams["savefig.dpi"])
            engine.execute(figure)
        figure.set_layout_engine(None)
        yield
    finally:
        figure.set_layout_engine(engine)
        figure.set_dpi(dpi)


def write_figures(
    report: Any,
    folder: str | os.PathLike[str],
    *,
    population: Aggregates | None = None,
    width: str = "single",
    fmt: str = "svg",
) -> dict[str, Path]:
    """Every kind the report can draw, as `FOLDER/KIND.FMT`; kind -> absolute path. A kind the
    selection cannot support (no fit, no Friedman blocks) is left out, not drawn empty."""
    out = Path(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{out}: cannot make the figures folder: {exc.strerror}") from exc
    written = {}
    for kind in KINDS:
        if missing(report_of(report), kind):
            continue
        figure = make_figure(report, kind, width, population=population)
        written[kind] = write_figure(figure, out / f"{kind}.{fmt}")
    return written


def missing(report: Report, kind: str) -> str | None:
    """Why the report cannot draw `kind` (None: it can)."""
    friedman = "no Friedman test: fewer than 2 models or 2 datasets with complete results"
    reasons = {
        "tau": None if report.rank_agreement else "no dataset shares 3 models with the reference",
        "gains": None if report.marginal_gains else "no gain: fewer than 2 ranked models",
        "bump": None if report.friedman else friedman,
        "scatter": None if report.effective_robustness else "no variant has 3 models to fit",
        "cd": None if report.friedman else friedman,
        "ranks": None
        if report.rank_distribution and report.rank_distribution.rows
        else "no rank distribution on the reference",
    }
    return reasons[kind]
