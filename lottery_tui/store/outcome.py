"""What an import did, for the CLI's summary line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ImportOutcome:
    path: Path
    what: str  # e.g. "1556 results on imagenet"
    import_id: int | None = None  # the record written (`lottery imports`)
    # The same bytes were imported before with the same source and options, as this import:
    # nothing changed.
    skipped_as: int | None = None

    def summary(self) -> str:
        if self.skipped_as is not None:
            return (
                f"{self.path}: already imported as import {self.skipped_as} (same sha256, "
                "source and options), nothing changed"
            )
        return f"{self.path}: imported {self.what} as import {self.import_id}"
