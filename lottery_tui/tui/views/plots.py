"""Plots: reference against a chosen variant (logit axes, fitted line, marked models highlighted),
and the rank distribution of the current model."""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical

from lottery_tui.store.explore import (
    DatasetInfo,
    check_source,
    find_identity,
    list_datasets,
    source_note,
)
from lottery_tui.store.explore_charts import reference_rank, scatter_points
from lottery_tui.tui.chartspec import distribution_spec, scatter_spec
from lottery_tui.tui.gains import report_context
from lottery_tui.tui.messages import ExportFailed, ExportWritten, PlotFailed, PlotLoaded, one_line
from lottery_tui.tui.scope import Scope
from lottery_tui.tui.views.base import ExplorerView
from lottery_tui.tui.widgets.chart import ChartPanel
from lottery_tui.tui.widgets.display import counted

DISTRIBUTION_RESAMPLES = 1000
MIN_FIELD = 20  # models ranked together with the current one, at least


class PlotsView(ExplorerView, Vertical, can_focus=True):
    """Focusable itself (a chart has no cursor), so its keys work as soon as it is shown. Each
    plot drawn is kept per scope: showing it again is instant."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left_square_bracket", "variant(-1)", "Prev", id="plots.prev"),
        Binding("right_square_bracket", "variant(1)", "Next", id="plots.next"),
        Binding("t", "toggle", "Ranks/scatter", id="plots.toggle"),
        Binding("e", "export", "Export", id="plots.export"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.datasets: list[DatasetInfo] = []
        self.variant = 1
        self.mode = "scatter"
        self.plots: dict[tuple[Scope, tuple[object, ...]], PlotLoaded] = {}

    def compose(self) -> ComposeResult:
        yield ChartPanel(id="plot-chart")

    @property
    def chart(self) -> ChartPanel:
        return self.query_one(ChartPanel)

    def activate(self) -> None:
        self.redraw()

    def store_changed(self) -> None:
        self.plots.clear()

    def _request(self) -> tuple[object, ...]:
        """What the plot shown now depends on, besides the scope."""
        if self.mode == "scatter":
            return ("scatter", self.variant, tuple(self.app.marked_models))
        return ("distribution", self.app.current_model)

    def redraw(self) -> None:
        scope, request = self.app.scope, self._request()
        cached = self.plots.get((scope, request))
        if cached is not None:
            self._show(cached)
        elif self.mode == "scatter":
            self.chart.show_message("loading the scatter…")
            self.load_scatter(scope, request, self.variant, list(self.app.marked_models))
        else:
            model = self.app.current_model
            if model is None:
                self.chart.show_message("move the cursor to a model in Results first")
                return
            self.chart.show_message(
                f"computing the rank distribution of {model} "
                f"({DISTRIBUTION_RESAMPLES:,} resamples)…"
            )
            self.load_distribution(scope, request, model)

    @work(thread=True, exclusive=True, exit_on_error=False, group="plot")
    def load_scatter(
        self, scope: Scope, request: tuple[object, ...], variant: int, marked: list[str]
    ) -> None:
        reference, source = scope
        try:
            with self.app.database.cursor() as cur:
                check_source(cur, source)
                datasets = list_datasets(cur, reference, source)
                if len(datasets) < 2 or datasets[0].dataset_id != reference:
                    raise LookupError(
                        f"no variant besides {reference} with results{source_note(source)}"
                    )
                target = datasets[1 + (variant - 1) % (len(datasets) - 1)]
                points = scatter_points(cur, reference, target.dataset_id, source)
                fit, note = self._fit(cur, scope, target.dataset_id)
        except Exception as exc:
            if scope == self.app.scope:  # else a newer scope's worker reports
                self.post_message(PlotFailed(one_line(exc)))
            return
        if (self.mode, self.variant) != ("scatter", variant):
            return  # a newer `[`/`]`/`t` asked since: this thread could not be cancelled
        spec = scatter_spec(points, datasets[0].label, target.label, fit, marked)
        caption = (
            f"{target.label} vs {datasets[0].label}: {counted(points.num_rows, 'model')}"
            f"{source_note(source)} · {note} · [ ] variant · t ranks"
        )
        self.post_message(PlotLoaded(scope, request, datasets, spec, caption))

    @staticmethod
    def _fit(cur: object, scope: Scope, target: str) -> tuple[tuple[float, float] | None, str]:
        """Intercept and slope of logit(acc_target) = a + b logit(acc_ref) from the report layer."""
        reference, source = scope
        try:
            from lottery_tui.report import service

            context = report_context(cur, reference, [target], source)
            result = service.effective_robustness(context, target, service.Options())
        except Exception as exc:  # the scatter is still worth showing without its line
            return None, f"no fit: {one_line(exc)}"
        a, b = result.intercept, result.slope
        return (a, b), f"fit: logit(y) = {a:.2f} + {b:.2f} logit(x)"

    @work(thread=True, exclusive=True, exit_on_error=False, group="plot")
    def load_distribution(self, scope: Scope, request: tuple[object, ...], model: str) -> None:
        reference, source = scope
        try:
            from lottery_tui.report import service

            with self.app.database.cursor() as cur:
                check_source(cur, source)
                rank = reference_rank(cur, model, reference, source)
                if rank is None:
                    raise LookupError(f"{model} has no result on {reference}{source_note(source)}")
                ident = find_identity(cur, model)
                result = service.rank_distribution(
                    report_context(cur, reference, [reference], source),
                    service.Options(resamples=DISTRIBUTION_RESAMPLES, seed=0),
                    top=max(MIN_FIELD, rank + MIN_FIELD // 2),
                )
        except Exception as exc:
            if scope == self.app.scope:
                self.post_message(PlotFailed(one_line(exc)))
            return
        if self.mode != "distribution":
            return  # `t` pressed again since
        from analysis.intervals import level_label

        row = next(r for r in result.rows if r.model == ident)
        shown = [(k + 1, p) for k, p in enumerate(row.p_rank) if p > 0]
        spec = distribution_spec([k for k, _ in shown], [p for _, p in shown], model)
        caption = (
            f"{model} on {reference}{source_note(source)}: rank {row.rank}, expected "
            f"{row.expected_rank:.1f}, {level_label(result.alpha)} in "
            f"{row.rank_low}-{row.rank_high} ({result.method}) · t scatter"
        )
        self.post_message(PlotLoaded(scope, request, None, spec, caption))

    @on(PlotLoaded)
    def _loaded(self, event: PlotLoaded) -> None:
        event.stop()
        self.plots[event.scope, event.request] = event
        if (event.scope, event.request) == (self.app.scope, self._request()):
            self._show(event)  # else another scope or plot was asked for since: its worker follows

    def _show(self, event: PlotLoaded) -> None:
        if event.datasets is not None:
            self.datasets = event.datasets
        self.chart.draw(event.spec, event.caption)

    @on(PlotFailed)
    def _failed(self, event: PlotFailed) -> None:
        event.stop()
        self.chart.show_message(f"plot unavailable: {event.error}")

    def action_variant(self, step: int) -> None:
        """Before the first scatter names the variants, steps still count (`]]]` typed ahead
        moves three): the worker wraps the number over the variants it finds."""
        self.variant += step
        if len(self.datasets) > 1:
            self.variant = (self.variant - 1) % (len(self.datasets) - 1) + 1
        self.mode = "scatter"
        self.redraw()

    def action_toggle(self) -> None:
        self.mode = "distribution" if self.mode == "scatter" else "scatter"
        self.redraw()

    def action_export(self) -> None:
        """The shown chart as a publication figure (`lottery figure scatter|ranks`), written
        as an SVG into the working folder."""
        if self.mode == "scatter":
            if len(self.datasets) < 2:
                self.notify("no scatter shown yet", timeout=2)
                return
            target = self.datasets[1 + (self.variant - 1) % (len(self.datasets) - 1)].dataset_id
            self.export_figure(self.app.scope, target, None)
        elif (model := self.app.current_model) is not None:
            self.export_figure(self.app.scope, None, model)

    @work(thread=True, exit_on_error=False, group="plot-export")
    def export_figure(self, scope: Scope, target: str | None, model: str | None) -> None:
        """Through the Python API, the code `lottery figure` runs: the scatter on
        `target`, or the rank distributions of the field `load_distribution` ranks `model` in."""
        from lottery_tui.api import Store
        from lottery_tui.figures import write_figure
        from lottery_tui.report.selection import Options, Selection

        reference, keep = scope
        try:
            with self.app.database.cursor() as cur:
                top = None
                if model is not None:
                    rank = reference_rank(cur, model, reference, keep)
                    if rank is None:
                        raise LookupError(f"{model} has no result on {reference}")
                    top = max(MIN_FIELD, rank + MIN_FIELD // 2)
                selection = Selection(
                    reference=reference,
                    datasets=[target or reference],
                    source=keep.source,
                    pretraining=keep.pretraining,
                    protocol=keep.protocol,
                )
                options = Options(resamples=DISTRIBUTION_RESAMPLES)
                report = Store(cur).report(selection, options, top=top)
                kind = "scatter" if target else "ranks"
                name = re.sub(r"[^A-Za-z0-9._-]+", "-", f"lottery-{kind}-{target or reference}")
                figure = report.figure(kind, target=target)
                path = write_figure(figure, Path.cwd() / f"{name}.svg")
        except Exception as exc:
            self.post_message(ExportFailed(one_line(exc)))
            return
        self.post_message(ExportWritten(str(path)))

    @on(ExportWritten)
    def _exported(self, event: ExportWritten) -> None:
        event.stop()
        self.notify(f"wrote {event.path}", timeout=6, markup=False)

    @on(ExportFailed)
    def _export_failed(self, event: ExportFailed) -> None:
        event.stop()
        self.notify(f"cannot export: {event.error}", severity="error", markup=False)
