"""A model's detail: every dataset with its 95 % interval and rank, and where the rows came from."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from lottery_tui.safe_text import safe_text
from lottery_tui.store.explore import ModelDetail
from lottery_tui.tui.messages import DetailFailed, DetailLoaded, one_line
from lottery_tui.tui.stats import model_detail
from lottery_tui.tui.widgets.arrow_table import ArrowTable

_META_FIELDS = (
    # the three tags as the store derived them (store/pretraining.py's one rule), first
    ("framework", "framework"),
    ("pretraining", "pretraining"),
    ("protocol", "protocol"),
    ("family", "family"),
    ("architecture", "architecture"),
    ("img_size", "image size"),
    ("param_count", "params (M)"),
    ("crop_pct", "crop"),
    ("interpolation", "interpolation"),
    ("source", "source"),
    ("path", "file"),
    ("sha256", "sha256"),
    ("created_at", "imported"),
)


def describe(detail: ModelDetail) -> str:
    """Metadata and provenance as `name: value` pairs, skipping what the store does not know."""
    parts = [
        f"{label}: {detail.metadata[key]}"
        for key, label in _META_FIELDS
        if detail.metadata.get(key) not in (None, "")
    ]
    return "  ".join(parts)


class ModelDetailScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close", id="detail.close"),
    ]
    DEFAULT_CSS = """
    ModelDetailScreen { align: center middle; }
    ModelDetailScreen > Vertical {
        width: 95%; height: 90%; border: round $primary; background: $surface;
    }
    ModelDetailScreen #detail-title { text-style: bold; height: 1; padding: 0 1; }
    ModelDetailScreen #detail-meta {
        height: auto; max-height: 6; padding: 0 1; color: $text-muted;
    }
    """

    def __init__(self, model: str) -> None:
        super().__init__()
        self.model = model

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(safe_text(self.model), id="detail-title", markup=False)
            yield Static("", id="detail-meta")
            yield ArrowTable(title=self.model, id="detail-table")

    def on_mount(self) -> None:
        self.query_one("#detail-table", ArrowTable).start_work(
            f"loading {self.model} on every dataset, with Wilson intervals…"
        )
        self.load(self.model, self.app.reference)

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail")
    def load(self, model: str, reference: str) -> None:
        try:
            with self.app.database.cursor() as cur:
                detail = model_detail(cur, model, reference)
        except KeyError:
            self.post_message(DetailFailed(f"no model named {model!r} in the store"))
            return
        except Exception as exc:
            self.post_message(DetailFailed(one_line(exc)))
            return
        self.post_message(DetailLoaded(detail))

    @on(DetailLoaded)
    def _loaded(self, event: DetailLoaded) -> None:
        event.stop()
        detail: ModelDetail = event.detail
        table = self.query_one("#detail-table", ArrowTable)
        self.query_one("#detail-meta", Static).update(describe(detail))
        table.load(detail.per_dataset)
        table.focus_table()

    @on(DetailFailed)
    def _failed(self, event: DetailFailed) -> None:
        event.stop()
        table = self.query_one("#detail-table", ArrowTable)
        table.show_message(f"cannot load {self.model}: {event.error}")
