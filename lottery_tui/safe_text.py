"""Text from the store shown safely: control characters become visible escapes.

Names come from users' files, and a name holding `ESC [ 31 m` or an OSC sequence would recolour
the terminal, move the cursor or misalign a table if printed raw. Escaping at display time (never
in the store) also covers rows imported before any check existed. One helper, used by the CLI's
tables, the explorer's tables, and `TerminalText`, which the CLI puts in front of a terminal
so whatever a command prints (reports, `compare`, `same`, messages) passes the same rule.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    import pyarrow as pa

# C0 and C1 controls, DEL, and the bidirectional overrides/isolates that reorder what follows.
_UNSAFE_CLASS = r"\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[{_UNSAFE_CLASS}]")
_UNSAFE_RE2 = r"[\x00-\x1f\x7f-\x9f\x{202a}-\x{202e}\x{2066}-\x{2069}]"  # Arrow's regex dialect


def safe_text(text: str) -> str:
    """`text` with each control character replaced by its escape (`\\x1b`, `\\u202e`)."""
    return _UNSAFE.sub(_escape, text)


_UNSAFE_IN_LINES = re.compile(_UNSAFE.pattern.replace(r"\x00-\x1f", r"\x00-\x08\x0b-\x1f"))


def safe_lines(text: str) -> str:
    """`text` escaped as `safe_text` does, keeping its newlines and tabs (its layout)."""
    return _UNSAFE_IN_LINES.sub(_escape, text)


class TerminalText(io.TextIOBase):
    """A text stream in front of a terminal that writes everything through `safe_lines`."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(safe_lines(text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.stream.fileno()


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_table(table: pa.Table) -> pa.Table:
    """`table` with control characters escaped in its column names and string columns; the
    same object when there is nothing to escape (the common case costs one regex scan)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    names = [safe_text(name) for name in table.column_names]
    columns = []
    changed = names != table.column_names
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            hits = pc.any(pc.match_substring_regex(column, _UNSAFE_RE2)).as_py()
            if hits:
                column = pa.array(
                    [None if v is None else safe_text(v) for v in column.to_pylist()], column.type
                )
                changed = True
        columns.append(column)
    return pa.table(columns, names=names) if changed else table
