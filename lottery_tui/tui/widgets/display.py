"""What a table shows for its data: the data stay as they are (sorting, copying and export use
them), the cells get text that cannot mislead in a narrow terminal.

- p-values are written as the CLI writes them (`< 1e-300`, never `0`; never cut to `4.28e-…`);
- model names that do not fit are cut in the middle, no two models reading the same (`names`);
- true/false read `yes`/`no` (the table's own `✓ True` reads as a mark plus a word);
- a column named in snake_case is headed in words (`ci_low` -> `CI low`) where the table asks.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from lottery_tui.report.numbers import format_p
from lottery_tui.tui.names import fit_names


def is_p_value(name: str) -> bool:
    """The explorer's rule for which columns hold p-values."""
    return name == "p" or name.startswith("p_")


@dataclass(frozen=True)
class Shown:
    """The cells' text for a table and whether any name was cut (then the full name of the
    row under the cursor is shown beside the table)."""

    table: pa.Table
    cut: bool


def counted(n: int, noun: str) -> str:
    """`1 row`, `2 rows`, `1,907 rows`: a count with its noun in the right number."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


ABBREVIATIONS = {"ci": "CI", "se": "SE", "mdd": "MDD"}


def header_words(name: str) -> str:
    """A snake_case column name as words, its abbreviations in capitals; other names as they are."""
    if "_" not in name:
        return name
    return " ".join(ABBREVIATIONS.get(part, part) for part in name.split("_") if part)


def for_display(table: pa.Table, name_widths: dict[str, int], *, words: bool = False) -> Shown:
    """`table` with p-value and true/false columns as text and the columns in `name_widths`
    fitted to their width (one fit over all of them: `model` and `below` never show two models
    alike); `words`: snake_case headers in words."""
    names = [n for n in name_widths if n in table.column_names]
    cut = False
    if names:
        width = min(name_widths[n] for n in names)
        values = [v for n in names for v in table.column(n).to_pylist() if v is not None]
        if any(len(str(v)) > width for v in values):
            texts = fit_names((str(v) for v in values), width)
            cut = True
            for n in names:
                fitted = [None if v is None else texts[str(v)] for v in table.column(n).to_pylist()]
                table = table.set_column(
                    table.column_names.index(n), n, pa.array(fitted, pa.string())
                )
    for i, name in enumerate(table.column_names):
        if is_p_value(name) and pa.types.is_floating(table.column(i).type):
            text = [None if p is None else format_p(p) for p in table.column(i).to_pylist()]
            table = table.set_column(i, name, pa.array(text, pa.string()))
        elif pa.types.is_boolean(table.column(i).type):
            text = [
                None if b is None else ("yes" if b else "no") for b in table.column(i).to_pylist()
            ]
            table = table.set_column(i, name, pa.array(text, pa.string()))
    if words:
        table = table.rename_columns([header_words(n) for n in table.column_names])
    return Shown(table, cut)
