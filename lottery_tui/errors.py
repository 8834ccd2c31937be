"""Errors a user can act on: one line that says what went wrong and where."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class LotteryError(Exception):
    """Base for every error the CLI prints as one line and exits non-zero on."""

    exit_code = 2


@dataclass
class InputError(LotteryError):
    """Bad input in a file: names the file, and the line and column when known."""

    message: str
    path: Path | str | None = None
    line: int | None = None
    column: str | int | None = None

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.path is not None:
            where.append(str(self.path))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class StoreLockedError(LotteryError):
    """Another process holds the DuckDB file; the message names its PID."""

    exit_code = 3


class StoreOpenError(LotteryError):
    """The store file exists but DuckDB cannot open it (not a DuckDB file, damaged, no access)."""


class StoreWriteError(LotteryError):
    """A commit the store could not take (a full disk, its folder moved away): nothing changed."""


class SchemaVersionError(LotteryError):
    """The store was made by a version this one cannot read or migrate."""


class ReadOnlyViolation(LotteryError):
    """A statement that would change the store was sent to a read-only console."""
