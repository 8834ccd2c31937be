"""`lottery imports` lists the imports (one record per file); `lottery imports remove ID` takes
one back in one transaction."""

from __future__ import annotations

import argparse
import sys

from lottery_tui.cli.main import add_db_option
from lottery_tui.cli.sql import add_format_option, render


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "imports",
        help="list the imports (file, sha256, options, source, rows, time), or remove one",
        description="List every imported file: its id, file, sha256, source, kind (import, or "
        "seed for the shipped data), the options it was given, its rows and time. "
        "`lottery imports remove ID` takes one back. See docs/store.md.",
    )
    add_format_option(parser)
    add_db_option(parser)
    parser.set_defaults(func=list_imports)
    actions = parser.add_subparsers(dest="imports_action", metavar="ACTION")
    remove = actions.add_parser(
        "remove",
        help="take one import back: its rows, and the models left with no rows",
        description="Remove import ID in one transaction: its results, its per-image "
        "predictions (and what was derived from them, e.g. ReaL), and the models left with no "
        "rows. Values it replaced when it was imported do not come back.",
    )
    remove.add_argument("import_id", type=int, metavar="ID", help="the id `lottery imports` shows")
    add_db_option(remove)
    remove.set_defaults(func=remove_import)


def list_imports(args: argparse.Namespace) -> int:
    from lottery_tui.store.connection import connect
    from lottery_tui.store.import_records import imports_table

    with connect(args.db, read_only=True) as con:
        table = imports_table(con)
    sys.stdout.write(render(table, args.format))
    return 0


def remove_import(args: argparse.Namespace) -> int:
    from lottery_tui.safe_text import safe_text
    from lottery_tui.store.connection import write_transaction
    from lottery_tui.store.import_records import remove_import

    with write_transaction(args.db) as con:
        removed = remove_import(con, args.import_id)
    models = f": {', '.join(removed.models)}" if removed.models else ""
    print(
        safe_text(
            f"removed import {args.import_id} ({removed.file}, source {removed.source}): "
            f"{removed.results} results, {removed.predictions} predictions, "
            f"{len(removed.models)} model{'' if len(removed.models) == 1 else 's'} left with "
            f"no rows{models}"
        )
    )
    return 0
