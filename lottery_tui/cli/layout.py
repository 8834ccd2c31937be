"""Text tables sized to the terminal: whole columns are dropped, never cut, and the table says
how many were dropped and how to see them (`--wide`). CSV and JSON never pass through here."""

from __future__ import annotations

import argparse
import shutil
import textwrap
from typing import TYPE_CHECKING

from lottery_tui.report.fit import columns_that_fit
from lottery_tui.safe_text import safe_text

if TYPE_CHECKING:
    import pyarrow as pa

FALLBACK_COLUMNS = 80  # the width assumed when output is not a terminal and $COLUMNS is unset
GAP = 2  # spaces between two columns of `cli.sql.render`'s text table


def add_wide_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wide",
        action="store_true",
        help="table format: every column, however wide (default: the columns that fit the "
        "terminal, $COLUMNS)",
    )


def terminal_width() -> int:
    """Columns of the terminal: $COLUMNS when set, else the terminal's, else 80."""
    return shutil.get_terminal_size((FALLBACK_COLUMNS, 24)).columns


def wrap(text: str, width: int) -> str:
    """A paragraph wrapped at `width`, words (and numbers) never split."""
    return textwrap.fill(text, width, break_long_words=False, break_on_hyphens=False)


def fit_columns(table: pa.Table, width: int, priority: list[str]) -> tuple[pa.Table, list[str]]:
    """The columns of `table` that fit `width` as a text table (`report.fit`), and the names
    of those dropped."""
    from lottery_tui.cli.sql import render

    def rendered_width(name: str) -> int:  # the dashes under the header span the column
        return len(render(table.select([name]), "table").splitlines()[1])

    widths = {name: rendered_width(name) for name in table.column_names}
    kept, dropped = columns_that_fit(
        table.column_names,
        priority,
        width,
        lambda names: sum(widths[n] for n in names) + GAP * (len(names) - 1),
    )
    return table.select(kept), dropped


def dropped_note(dropped: list[str], width: int) -> str:
    """The line under a table that lost columns to the terminal's width ('' when none)."""
    if not dropped:
        return ""
    what = "1 column" if len(dropped) == 1 else f"{len(dropped)} columns"
    names = safe_text(", ".join(dropped))
    return wrap(f"({what} not shown at {width} columns: {names}; --wide shows all)", width) + "\n"
