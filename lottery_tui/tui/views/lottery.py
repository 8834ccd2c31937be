"""Lottery: is each marginal ImageNet gain real or a lottery win; paired comparison of a pair."""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

import pyarrow as pa
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Static

from lottery_tui.store.explore import source_note
from lottery_tui.store.explore_charts import models_in_scope
from lottery_tui.store.identity import ModelRef
from lottery_tui.tui.families import (
    comparison_family,
    gain_draws,
    gains_family,
    variants_family,
)
from lottery_tui.tui.gains import gain_options, summary_line
from lottery_tui.tui.messages import (
    CandidatesLoaded,
    ComparisonFailed,
    ComparisonLoaded,
    GainsFailed,
    GainsLoaded,
    OpenScreen,
    one_line,
)
from lottery_tui.tui.scope import Scope
from lottery_tui.tui.stats import present, to_table, with_decisions
from lottery_tui.tui.views.base import ExplorerView
from lottery_tui.tui.widgets.arrow_table import CELL_PADDING, SCROLLBAR, ArrowTable, shown

PAIR_COLUMNS = (("model", "below"), ("model_a", "model_b"))
GAIN_COLUMNS = ["verdict", "model", "below", "delta", "ci_low", "ci_high", "p_adjusted"]
COMPARE_COLUMNS = [
    "dataset",
    "mode",
    "delta",
    "ci_low",
    "ci_high",
    "p_adjusted",
    "verdict",
    "acc_a",
    "acc_b",
]
FRACTIONS = [
    "delta",
    "ci_low",
    "ci_high",
    "acc_a",
    "acc_b",
    "wald_low",
    "wald_high",
    "newcombe_low",
    "newcombe_high",
    "mdd",
]
MIN_NAME, MAX_NAME = 16, 30
PAIR_HELP = "d: the gain per variant · Enter: compare its pair · c: compare two models"


def with_bare_names(models: dict[str, ModelRef]) -> dict[str, ModelRef]:
    """Shown name -> identity, plus each bare NAME only one model in scope has (shown as
    SOURCE:NAME because another source has it too), so that name typed alone picks it."""
    names = [identity.name for identity in models.values()]
    once = Counter(names)
    bare = {n: i for n, i in zip(names, models.values(), strict=True) if once[n] == 1}
    return {**bare, **models}


def pair_of(row: dict[str, object]) -> tuple[str, str] | None:
    """The two models a verdict row is about, whatever the report layer calls the columns."""
    for a, b in PAIR_COLUMNS:
        if row.get(a) and row.get(b):
            return str(row[a]), str(row[b])
    return None


class LotteryView(ExplorerView, Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "pick_pair", "Pair", id="lottery.compare"),
        Binding("d", "gain_detail", "Variants", id="lottery.detail"),
        Binding("plus,equals_sign", "top(5)", "More", show=False, id="lottery.more"),
        Binding("minus", "top(-5)", "Fewer", show=False, id="lottery.fewer"),
    ]
    DEFAULT_CSS = """
    LotteryView > ArrowTable { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.computed_for: Scope | None = None  # the scope shown (or being computed)
        self.candidates: dict[str, ModelRef] = {}  # every model in scope: shown name -> identity
        self.accepted: dict[str, ModelRef] = {}  # the candidates and the bare names they alone have
        self.names: dict[ModelRef, str] = {}  # identity -> shown name (the candidates reversed)
        self.top: int | None = None  # models whose adjacent gains are judged (None: default)
        self.gains: dict[tuple[str, str], Any] = {}  # (model, below) as shown -> MarginalGain
        # What was computed, per scope: going back to a reference or source is instant.
        self.verdicts: dict[tuple[Scope, int | None], GainsLoaded] = {}
        self.candidate_sets: dict[Scope, dict[str, ModelRef]] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="lottery-summary", classes="status")
        yield ArrowTable(
            title="Marginal gains",
            max_column_width=MAX_NAME,
            pinned=2,  # the verdict and the model stay beside delta, interval and p
            name_columns=("model", "below", "model_a", "model_b"),
            id="gains-table",
        )
        yield Static(
            PAIR_HELP,
            id="pair-status",
            classes="status",
        )
        yield ArrowTable(
            title="Paired comparison", max_column_width=30, pinned=1, id="compare-table"
        )

    def activate(self) -> None:
        scope = self.app.scope
        if self.computed_for == scope:
            return
        self.computed_for = scope
        reference, source = scope
        gains = self.query_one("#gains-table", ArrowTable)
        gains.title = f"Marginal gains on {reference}{source_note(source)}"
        self.gains = {}
        self.query_one("#compare-table", ArrowTable).clear("no comparison yet")
        self.query_one("#pair-status", Static).update(PAIR_HELP)
        if scope in self.candidate_sets:
            self._take_candidates(self.candidate_sets[scope])
        cached = self.verdicts.get((scope, self.top))
        if cached is not None:
            self._show_gains(cached)
            return
        gains.start_work(
            f"computing marginal-gain verdicts on {reference}{source_note(source)} "
            "(bootstrap, McNemar, Holm)…"
        )
        self.query_one("#lottery-summary", Static).update("lottery summary: computing…")
        self.load_gains(scope, self.top)

    def store_changed(self) -> None:
        self.computed_for = None
        self.verdicts.clear()
        self.candidate_sets.clear()

    def action_top(self, step: int) -> None:
        """Judge the gains among more or fewer of the top models (N, in steps of 5)."""
        from lottery_tui.report.selection import DEFAULT_FOCUS

        self.top = max(2, (self.top or DEFAULT_FOCUS) + step)
        self.computed_for = None
        self.activate()

    @work(thread=True, exclusive=True, exit_on_error=False, group="gains")
    def load_gains(self, scope: Scope, top: int | None) -> None:
        try:
            with self.app.database.cursor() as cur:
                candidates = models_in_scope(cur, scope[1])
                self.post_message(CandidatesLoaded(scope, candidates))
            result = self.app.gains.get(self.app.database.cursor, scope, top)
            summary = summary_line(result, top)
        except Exception as exc:
            if scope == self.app.scope:  # else a newer scope's worker reports
                self.post_message(GainsFailed(one_line(exc)))
            return
        names = {ref: shown for shown, ref in candidates.items()}
        table = present(to_table(result, names), first=GAIN_COLUMNS, percent=FRACTIONS)
        draws = gain_draws(result, gain_options().resamples)
        family = f"{gains_family(result, scope[0])} · {draws}" if result else ""
        self.post_message(GainsLoaded(scope, top, result, table, summary, family))

    @work(thread=True, exclusive=True, exit_on_error=False, group="compare")
    def load_comparison(
        self, scope: Scope, a: ModelRef, b: ModelRef, shown_a: str, shown_b: str
    ) -> None:
        """A vs B as `lottery compare` does it, within the scope's models."""
        try:
            from lottery_tui.report import service

            reference, keep = scope
            selection = service.Selection(
                reference, None, None, keep.source, keep.pretraining, keep.protocol
            )
            with self.app.database.cursor() as cur:
                options = gain_options()  # the verdicts' draws: one pair, one interval
                result = service.compare(cur, a, b, selection, options).rows
            family = comparison_family(result, options.resamples)
        except Exception as exc:
            self.post_message(ComparisonFailed(one_line(exc)))
            return
        table = with_decisions(to_table(result))
        table = present(table, first=COMPARE_COLUMNS, percent=FRACTIONS)
        self.post_message(ComparisonLoaded(shown_a, shown_b, table, family))

    def compare(self, a: ModelRef, b: ModelRef, shown: tuple[str, str]) -> None:
        """Compare two identities (a verdict row's, or the models picked by name; `shown`: as
        the row or the picker named them): they go to the report as they are, never
        re-resolved from the text shown."""
        shown_a, shown_b = shown
        self.query_one("#pair-status", Static).update(f"A = {shown_a} vs B = {shown_b}")
        self.query_one("#compare-table", ArrowTable).start_work(
            "comparing A with B on every dataset (paired where both have per-image data, "
            "unpaired elsewhere)…"
        )
        self.load_comparison(self.app.scope, a, b, shown_a, shown_b)

    def shown_name(self, ref: ModelRef) -> str:
        """The text this view shows for an identity (as the table's `to_table` writes it)."""
        return self.names.get(ref, ref.qualified)

    @on(CandidatesLoaded)
    def _candidates_loaded(self, event: CandidatesLoaded) -> None:
        event.stop()
        self.candidate_sets[event.scope] = event.models
        if event.scope == self.app.scope:
            self._take_candidates(event.models)

    def _take_candidates(self, models: dict[str, ModelRef]) -> None:
        self.candidates = models
        self.accepted = with_bare_names(models)
        self.names = {ref: shown for shown, ref in models.items()}

    @on(GainsLoaded)
    def _gains_loaded(self, event: GainsLoaded) -> None:
        event.stop()
        self.verdicts[event.scope, event.top] = event
        # Else a reference, source or N chosen since: its worker follows.
        if (event.scope, event.top) == (self.app.scope, self.top):
            self._show_gains(event)

    def _show_gains(self, event: GainsLoaded) -> None:
        self.gains = {(self.shown_name(g.model), self.shown_name(g.below)): g for g in event.gains}
        self.query_one("#lottery-summary", Static).update(event.summary)
        gains = self.query_one("#gains-table", ArrowTable)
        gains.name_width = self._name_width(event.table)
        gains.load(event.table)
        gains.set_note(event.family)
        self._keys_to_gains()

    def _name_width(self, table: pa.Table) -> int:
        """Names narrow enough that `below` fits whole beside the pinned verdict and model
        (a column wider than what the pins leave would be drawn in part): the full names of
        the row under the cursor show below the table."""
        verdicts = table.column("verdict").to_pylist() if "verdict" in table.column_names else []
        verdict = max((len(str(v)) for v in verdicts), default=0) + CELL_PADDING
        room = self.app.size.width - SCROLLBAR - verdict
        return max(MIN_NAME, min(MAX_NAME, room // 2 - CELL_PADDING))

    def on_resize(self) -> None:
        gains = self.query_one("#gains-table", ArrowTable)
        if gains.source is None:
            return
        width = self._name_width(gains.source)
        if width != gains.name_width:
            gains.name_width = width
            gains.load(gains.source)

    @on(ComparisonLoaded)
    def _comparison_loaded(self, event: ComparisonLoaded) -> None:
        from lottery_tui.report.labels import AGGREGATE, PAIRED

        event.stop()
        a, b = event.a, event.b
        compare = self.query_one("#compare-table", ArrowTable)
        compare.title = f"{a} vs {b}"
        compare.load(event.table)
        compare.set_note(event.family)
        self.query_one("#pair-status", Static).update(
            f"A = {a} vs B = {b}: delta = A - B (pp); mode: {PAIRED} or {AGGREGATE}"
        )

    def _keys_to_gains(self) -> None:
        """New verdicts (a source or reference changed): the keys go to them, so the arrows
        move the cursor that `d` and Enter read, unless the user has gone elsewhere."""
        focused = self.app.focused
        table = self.query_one("#gains-table", ArrowTable).data_table
        if table is None or not shown(table) or self.app.screen is not self.app.screen_stack[0]:
            return
        if focused is None or self in focused.ancestors:
            self.app.screen.set_focus(table)

    @on(GainsFailed)
    def _gains_failed(self, event: GainsFailed) -> None:
        event.stop()
        gains = self.query_one("#gains-table", ArrowTable)
        gains.show_message(f"verdicts unavailable: {event.error}")
        self.query_one("#lottery-summary", Static).update("")

    @on(ComparisonFailed)
    def _comparison_failed(self, event: ComparisonFailed) -> None:
        event.stop()
        self.query_one("#compare-table", ArrowTable).clear("no comparison")
        status = self.query_one("#pair-status", Static)
        status.update(f"cannot compare: {event.error}")

    @on(ArrowTable.RowChosen, "#gains-table")
    def _compare_row(self, event: ArrowTable.RowChosen) -> None:
        pair = pair_of(event.row)
        gain = self.gains.get(pair) if pair is not None else None
        if gain is not None:  # the row's own identities
            self.compare(gain.model, gain.below, pair)

    def action_gain_detail(self) -> None:
        """The gain under the cursor per variant, with its lottery index (built from the verdicts
        already computed: no database or statistics work on the UI thread)."""
        row = self.query_one("#gains-table", ArrowTable).cursor_row()
        pair = pair_of(row) if row is not None else None
        gain = self.gains.get(pair) if pair is not None else None
        if gain is None:
            self.notify("no verdict under the cursor yet", timeout=2)
            return
        from lottery_tui.tui.screens.gain import GainDetailScreen

        family = gains_family(list(self.gains.values()), self.app.scope[0])
        variants = variants_family(gain, gain_options().resamples)
        self.app.post_message(OpenScreen(GainDetailScreen(gain, pair, family, variants)))

    def action_pick_pair(self) -> None:
        from lottery_tui.tui.screens.pair import PairScreen

        marked = [m for m in self.app.marked_models if m in self.candidates]
        screen = PairScreen(list(self.candidates), set(self.accepted), marked[:2])
        self.app.post_message(OpenScreen(screen, self._picked))

    def _picked(self, pair: tuple[str, str] | None) -> None:
        if pair is not None:
            self.compare(self.accepted[pair[0]], self.accepted[pair[1]], pair)
