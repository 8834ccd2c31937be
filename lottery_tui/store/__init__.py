"""The DuckDB results store: schema, connections, importers. Never imports textual or torch."""

from __future__ import annotations
