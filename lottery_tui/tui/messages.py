"""Messages that workers post: results travel to the UI thread, which alone touches widgets.

One class per result kind, so each handler is chosen by the message's type (`@on(BumpLoaded)`)
and receives named, typed fields; every failure is a `Failed` subclass carrying one line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:  # only for the annotations: the explorer starts without these imports
    import pyarrow as pa
    from textual.screen import Screen

    from lottery_tui.report.marginal import MarginalGain
    from lottery_tui.store.explore import DatasetInfo, ModelDetail, ResultsGrid
    from lottery_tui.store.identity import ModelRef
    from lottery_tui.store.relations import Relation
    from lottery_tui.tui.chartspec import ChartSpec
    from lottery_tui.tui.queries import SqlResult
    from lottery_tui.tui.scope import Scope  # a handler drops a result of a scope changed since


def one_line(exc: BaseException) -> str:
    """The first line of an error, prefixed by its kind when the text alone would be vague."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text


@dataclass
class Failed(Message):
    """A worker failed: `error` is one line to show in place, never a crash."""

    error: str


@dataclass
class ResultsLoaded(Message):
    scope: Scope
    grid: ResultsGrid


class ResultsFailed(Failed):
    pass


@dataclass
class RankingsSummaryLoaded(Message):
    scope: Scope
    text: str


@dataclass
class AgreementLoaded(Message):
    scope: Scope
    table: pa.Table


class AgreementFailed(Failed):
    pass


@dataclass
class BumpLoaded(Message):
    scope: Scope
    spec: ChartSpec


class BumpFailed(Failed):
    pass


@dataclass
class CandidatesLoaded(Message):
    """Every model in a scope (shown name -> identity), offered when picking a pair."""

    scope: Scope
    models: dict[str, ModelRef]


@dataclass
class GainsLoaded(Message):
    scope: Scope
    top: int | None  # the top N judged (None: the report's default)
    gains: list[MarginalGain]
    table: pa.Table
    summary: str
    family: str  # the adjustment family and draws (tui.families)


class GainsFailed(Failed):
    pass


@dataclass
class ComparisonLoaded(Message):
    a: str
    b: str
    table: pa.Table
    family: str  # the adjustment family and draws (tui.families)


class ComparisonFailed(Failed):
    pass


@dataclass
class PlotLoaded(Message):
    """`datasets`: the variants offered by `[`/`]` (None: a plot that does not change them)."""

    scope: Scope
    request: tuple[object, ...]  # what was asked: the plot, its variant or model, the marks
    datasets: list[DatasetInfo] | None
    spec: ChartSpec
    caption: str


class PlotFailed(Failed):
    pass


@dataclass
class SqlDone(Message):
    result: SqlResult


@dataclass
class SqlFailed(Failed):
    cancelled: bool = False


@dataclass
class RelationsLoaded(Message):
    relations: list[Relation]


class RelationsFailed(Failed):
    pass


@dataclass
class ExportWritten(Message):
    path: str


class ExportFailed(Failed):
    pass


@dataclass
class DetailLoaded(Message):
    detail: ModelDetail


class DetailFailed(Failed):
    pass


@dataclass
class OpenScreen(Message):
    """A view asks the app to open a dialog: the app alone pushes screens. `callback` gets
    what the dialog returns."""

    screen: Screen
    callback: Callable[[Any], None] | None = None
