"""Rankings: rank agreement with the reference per dataset, and the bump view of the top N."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Static

from lottery_tui.store.explore import check_source, list_datasets, source_note
from lottery_tui.store.explore_charts import bump_ranks
from lottery_tui.tui.chartspec import PALETTE, bump_spec
from lottery_tui.tui.gains import report_context, summary_line
from lottery_tui.tui.messages import (
    AgreementFailed,
    AgreementLoaded,
    BumpFailed,
    BumpLoaded,
    RankingsSummaryLoaded,
    one_line,
)
from lottery_tui.tui.scope import Scope
from lottery_tui.tui.stats import present, to_table
from lottery_tui.tui.views.base import ExplorerView
from lottery_tui.tui.widgets.arrow_table import ArrowTable
from lottery_tui.tui.widgets.chart import ChartPanel

if TYPE_CHECKING:
    import pyarrow as pa

    from lottery_tui.tui.chartspec import ChartSpec

DEFAULT_TOP = 10
SHORT_TOP, SHORT = 6, 30
"""Lines in the bump view on a terminal under `SHORT` rows: ten lines in ~8 rows are a tangle.
There the table and the bump view take the whole view in turn (`b`): together neither gets the
rows it needs (11 datasets and 6 lines at 80x24)."""
PLOT_MARGIN = 6  # the y ticks and the frame, in characters
MAX_TOP = len(PALETTE)  # one distinct colour per line
AGREEMENT_RESAMPLES = 1000


class RankingsView(ExplorerView, Vertical):
    """Statistics are computed on first view, in the background; the table fills in. What was
    computed is kept per scope, so going back to a reference or source is instant."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("plus,equals_sign", "top(1)", "More", id="rankings.more"),
        Binding("minus", "top(-1)", "Fewer", id="rankings.fewer"),
        Binding("b", "switch", "Bump", id="rankings.switch"),
    ]
    DEFAULT_CSS = """
    RankingsView > #agreement-table { height: 2fr; max-height: 60%; }
    RankingsView > #bump-chart { height: 3fr; }
    RankingsView.-short > #agreement-table { max-height: 100%; }
    RankingsView.-short > #bump-chart, RankingsView.-short.-bump > #agreement-table {
        display: none;
    }
    RankingsView.-short.-bump > #bump-chart { display: block; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.top = DEFAULT_TOP
        self.computed_for: Scope | None = None  # the scope shown (or being computed)
        self.started_once = False
        self.agreements: dict[Scope, pa.Table] = {}
        self.bumps: dict[tuple[Scope, int], ChartSpec] = {}  # (scope, top N)

    def compose(self) -> ComposeResult:
        yield Static("", id="rankings-summary", classes="status")
        yield ArrowTable(title="Rank agreement with the reference", id="agreement-table")
        yield ChartPanel(id="bump-chart")

    def on_resize(self) -> None:
        self.set_class(self.app.size.height < SHORT, "-short")
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`b` only where the table and the bump view take turns."""
        return action != "switch" or self.has_class("-short")

    def action_switch(self) -> None:
        self.toggle_class("-bump")
        chart = self.query_one(ChartPanel)
        chart.can_focus = self.has_class("-bump")  # else it would take the table's focus
        if chart.can_focus:
            chart.focus()
        else:
            self.query_one("#agreement-table", ArrowTable).focus_table()

    def activate(self) -> None:
        """Called when the view is shown: the first time, start the background work."""
        scope = self.app.scope
        if self.computed_for == scope:
            return
        if not self.started_once:
            self.started_once = True
            self.top = SHORT_TOP if self.app.size.height < SHORT else DEFAULT_TOP
        self.computed_for = scope
        table = self.query_one("#agreement-table", ArrowTable)
        table.title = f"Rank agreement with {scope.reference}{source_note(scope.models)}"
        self.query_one("#rankings-summary", Static).update(
            "lottery summary: computing the marginal-gain verdicts…"
        )
        if scope in self.agreements:
            table.load(self.agreements[scope])
        else:
            table.start_work(
                f"computing Kendall tau-b per dataset against {scope.reference}"
                f"{source_note(scope.models)}, intervals from {AGREEMENT_RESAMPLES:,} resamples…"
            )
            self.load_agreement(scope)
        self._show_bump(scope)
        lottery = self.app.query("#lottery-view")  # the verdicts are cached: instant if known
        self.load_summary(scope, lottery.first().top if lottery else None)

    def store_changed(self) -> None:
        self.computed_for = None
        self.agreements.clear()
        self.bumps.clear()

    def _show_bump(self, scope: Scope) -> None:
        spec = self.bumps.get((scope, self.top))
        if spec is not None:
            self._draw_bump(scope, spec)
            return
        self.query_one(ChartPanel).show_message(f"ranking the top {self.top} on every dataset…")
        self.load_bump(scope, self.top, self._plot_width())

    @work(thread=True, exclusive=True, exit_on_error=False, group="rankings-summary")
    def load_summary(self, scope: Scope, top: int | None) -> None:
        """The one-line lottery summary (the verdicts are shared with the Lottery view)."""
        try:
            text = summary_line(self.app.gains.get(self.app.database.cursor, scope, top), top)
        except Exception as exc:
            text = f"lottery summary unavailable: {one_line(exc)}"
        self.post_message(RankingsSummaryLoaded(scope, text))

    def _plot_width(self) -> int:
        return max(20, self.app.size.width - PLOT_MARGIN)

    @work(thread=True, exclusive=True, exit_on_error=False, group="rank-agreement")
    def load_agreement(self, scope: Scope) -> None:
        reference, source = scope
        try:
            from lottery_tui.report import service

            with self.app.database.cursor() as cur:
                check_source(cur, source)
                result = service.rank_agreement(
                    report_context(cur, reference, None, source),
                    service.Options(resamples=AGREEMENT_RESAMPLES, seed=0),
                )
        except Exception as exc:
            if scope == self.app.scope:  # else a newer scope's worker reports
                self.post_message(AgreementFailed(one_line(exc)))
            return
        table = present(
            to_table(result),
            first=["dataset", "kendall_tau_b", "p_value", "ci_low", "ci_high", "n_models"],
            percent=[],
        )
        self.post_message(AgreementLoaded(scope, table))

    @work(thread=True, exclusive=True, exit_on_error=False, group="bump")
    def load_bump(self, scope: Scope, top: int, plot_width: int) -> None:
        reference, source = scope
        try:
            with self.app.database.cursor() as cur:
                check_source(cur, source)
                datasets = list_datasets(cur, reference, source)
                ranks = bump_ranks(cur, reference, datasets, top, source)
        except Exception as exc:
            if scope == self.app.scope:
                self.post_message(BumpFailed(one_line(exc)))
            return
        if top != self.top:
            return  # a newer +/- asked since: this thread could not be cancelled
        spec = bump_spec(ranks, [d.label for d in datasets], "", plot_width=plot_width)
        self.post_message(BumpLoaded(scope, spec))

    @on(RankingsSummaryLoaded)
    def _summary_loaded(self, event: RankingsSummaryLoaded) -> None:
        event.stop()
        if event.scope == self.app.scope:  # else a newer scope's worker follows
            self.query_one("#rankings-summary", Static).update(event.text)

    @on(AgreementLoaded)
    def _agreement_loaded(self, event: AgreementLoaded) -> None:
        event.stop()
        self.agreements[event.scope] = event.table
        if event.scope == self.app.scope:
            table = self.query_one("#agreement-table", ArrowTable)
            table.load(event.table)
            # every row, the header, a horizontal scrollbar and the caption (up to max-height)
            table.styles.height = event.table.num_rows + 3

    @on(BumpLoaded)
    def _bump_loaded(self, event: BumpLoaded) -> None:
        event.stop()
        if event.scope == self.app.scope:
            self.bumps[event.scope, self.top] = event.spec
            self._draw_bump(event.scope, event.spec)

    def _draw_bump(self, scope: Scope, spec: ChartSpec) -> None:
        self.query_one(ChartPanel).draw(
            spec,
            caption=f"bump: top {self.top} on {scope.reference}{source_note(scope.models)}, "
            "ranked among themselves · +/- more/fewer",
        )

    @on(AgreementFailed)
    def _agreement_failed(self, event: AgreementFailed) -> None:
        event.stop()
        table = self.query_one("#agreement-table", ArrowTable)
        table.show_message(f"rank agreement unavailable: {event.error}")

    @on(BumpFailed)
    def _bump_failed(self, event: BumpFailed) -> None:
        event.stop()
        self.query_one(ChartPanel).show_message(f"bump view unavailable: {event.error}")

    def action_top(self, step: int) -> None:
        self.top = max(2, min(MAX_TOP, self.top + step))
        self._show_bump(self.app.scope)
