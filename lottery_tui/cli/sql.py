"""`lottery sql "QUERY" [--format table|csv|json]`: ad hoc, read-only SQL on the store.

CSV and JSON are written a batch of rows at a time, so an export of millions
of rows holds one batch, not the result (bench/bench_sql_export.py).

The store is opened read-only (so it works while the explorer is open) under the one SQL policy of
`lottery_tui.store.sql_policy`, shared with the explorer's SQL view.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lottery_tui.cli.main import add_db_option
from lottery_tui.errors import InputError, ReadOnlyViolation
from lottery_tui.safe_text import safe_text

if TYPE_CHECKING:
    import pyarrow as pa

FORMATS = ("table", "csv", "json")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sql",
        help="run a read-only SQL query on the store",
        description="Run read-only SQL on the store. Public views: results(model, dataset, "
        "top1, top5, n_images, source, pretraining, protocol) and predictions(model, dataset, "
        "image_id, pred, correct, source): a model is (source, model). "
        "See docs/store.md.",
    )
    parser.add_argument("query", help="SQL text, or '-' to read it from standard input")
    add_format_option(parser)
    add_db_option(parser)
    parser.set_defaults(func=run)


def add_format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default: table)"
    )


def run(args: argparse.Namespace) -> int:
    import duckdb

    from lottery_tui.store.sql_policy import check_sql, open_console

    query = sys.stdin.read() if args.query == "-" else args.query
    statements = check_sql(query, console="lottery sql")
    with open_console(args.db) as con:
        for statement in statements:
            output = OUTPUTS[args.format]()
            try:
                produced = _interruptible(con, statement, output.write)
            except duckdb.InterruptException:
                raise KeyboardInterrupt from None
            except duckdb.Error as exc:
                first_line = str(exc).strip().splitlines()[0]
                if "read-only mode" in first_line:
                    raise ReadOnlyViolation(f"lottery sql is read-only: {first_line}") from None
                raise InputError(f"query failed: {first_line}") from None
            if produced:
                output.close()
    return 0


class _TableOutput:
    """The aligned table needs every row's width first: it is for reading, so it holds all."""

    def __init__(self) -> None:
        self.batches: list[pa.RecordBatch] = []
        self.schema: pa.Schema | None = None

    def write(self, batch: pa.RecordBatch) -> None:
        self.schema = batch.schema
        self.batches.append(batch)

    def close(self) -> None:
        import pyarrow as pa

        sys.stdout.write(render(pa.Table.from_batches(self.batches, self.schema), "table"))


class _CsvOutput:
    """CSV a batch at a time: memory stays one batch however many rows."""

    def __init__(self) -> None:
        self.header = True

    def write(self, batch: pa.RecordBatch) -> None:
        sys.stdout.write(_csv_text(batch, header=self.header))
        self.header = False

    def close(self) -> None:
        """Nothing is held back."""


class _JsonOutput:
    """One JSON array of records, written a batch at a time."""

    def __init__(self) -> None:
        self.opened = False

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        sys.stdout.write(", " if self.opened else "[")
        self.opened = True
        sys.stdout.write(", ".join(_json_records(batch)))

    def close(self) -> None:
        sys.stdout.write(("]" if self.opened else "[]") + "\n")


OUTPUTS = {"table": _TableOutput, "csv": _CsvOutput, "json": _JsonOutput}
BATCH_ROWS = 16_384
"""Rows fetched and written at a time by `lottery sql`."""
INTERRUPT_GRACE_SECONDS = 2.0
"""How long Ctrl-C waits for DuckDB to stop a query before `lottery sql` exits regardless."""


def _interruptible(con: Any, statement: str, sink: Callable[[pa.RecordBatch], None]) -> bool:
    """Run `statement` and hand its rows to `sink` a batch at a time; False when it returns no
    rows. It runs in a thread so Ctrl-C reaches the main thread (DuckDB does not look at signals
    while it computes), which then interrupts the query and exits with 130."""
    import duckdb
    import pyarrow as pa

    outcome: dict[str, Any] = {}
    done = threading.Event()  # not Thread.is_alive: a Ctrl-C inside join() can corrupt it
    cur = con.cursor()  # the worker's own handle: the main thread interrupts it

    def work() -> None:
        relation = reader = None
        try:
            relation = cur.sql(statement)
            if relation is not None:
                reader = relation.to_arrow_reader(BATCH_ROWS)  # streams: one batch at a time
                empty = True
                for batch in reader:
                    sink(batch)
                    empty = False
                if empty:  # still a result: its header, or []
                    sink(pa.RecordBatch.from_pylist([], schema=reader.schema))
                outcome["rows"] = True
        except BaseException as exc:  # handed to the main thread, without the frames that
            outcome["error"] = exc.with_traceback(None)  # would keep the reader (and cursor)
        finally:  # busy: a live relation or reader stops the cursor from closing
            del relation, reader
            done.set()

    threading.Thread(target=work, daemon=True).start()
    try:
        while not done.wait(0.1):
            pass
    except KeyboardInterrupt:
        deadline = time.monotonic() + INTERRUPT_GRACE_SECONDS
        while not done.wait(0.05):  # an interrupt that lands before execution starts is lost
            with contextlib.suppress(duckdb.Error):  # "busy": not executing yet, try again
                cur.interrupt()
            if time.monotonic() > deadline:  # blocked outside DuckDB's checks (a FIFO's open)
                print("lottery: interrupted (the query was blocked on a file)", file=sys.stderr)
                sys.stderr.flush()
                os._exit(130)  # the blocked thread cannot be stopped; a read-only exit is safe
        raise
    finally:
        cur.close()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("rows", False)


def render(table: pa.Table, fmt: str) -> str:
    if fmt == "json":
        return "[" + ", ".join(_json_records(table)) + "]\n"
    if fmt == "csv":
        return _csv_text(table, header=True)
    rows = [tuple(row.values()) for row in table.to_pylist()]
    return _text_table(table.column_names, rows)


def _csv_text(data: pa.Table | pa.RecordBatch, *, header: bool) -> str:
    import csv

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(data.column_names)
    writer.writerows(["" if v is None else v for v in row.values()] for row in data.to_pylist())
    return out.getvalue()


def _json_records(data: pa.Table | pa.RecordBatch) -> list[str]:
    names = data.column_names
    return [
        json.dumps(dict(zip(names, map(_json_value, row.values()), strict=True)), default=str)
        for row in data.to_pylist()
    ]


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return format(value, ".6g")
    return safe_text(str(value))  # a name holding ESC sequences must not reach the terminal


def _text_table(names: list[str], rows: list[tuple[Any, ...]]) -> str:
    names = [safe_text(name) for name in names]
    cells = [[_cell(v) for v in row] for row in rows]
    numeric = [
        all(isinstance(row[i], int | float) or row[i] is None for row in rows) and bool(rows)
        for i in range(len(names))
    ]
    widths = [max([len(n), *(len(r[i]) for r in cells)]) for i, n in enumerate(names)]

    def line(values: list[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(names), "  ".join("-" * w for w in widths)]
    out.extend(line(row) for row in cells)
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"
