"""What an import did, for the CLI's summary line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ImportOutcome:
    path: Path
    what: str  # e.g. "1556 results on imagenet"
    skipped: bool = False  # the same bytes were imported before: nothing changed

    def summary(self) -> str:
        if self.skipped:
            return f"{self.path}: already imported (same sha256), nothing changed"
        return f"{self.path}: imported {self.what}"
