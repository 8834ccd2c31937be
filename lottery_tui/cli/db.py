"""`lottery db info`: where the store is and what it holds."""

from __future__ import annotations

import argparse
import json
import sys

from lottery_tui.cli.main import add_db_option


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("db", help="information about the results store")
    commands = parser.add_subparsers(dest="db_command", metavar="SUBCOMMAND", required=True)
    info = commands.add_parser("info", help="path, schema version, row counts and sources")
    info.add_argument("--format", choices=("text", "json"), default="text")
    add_db_option(info)
    info.set_defaults(func=show_info)


def show_info(args: argparse.Namespace) -> int:
    from lottery_tui.store.catalog import store_info
    from lottery_tui.store.connection import connect
    from lottery_tui.store.paths import resolve_db_path

    path = resolve_db_path(args.db)
    with connect(path, read_only=True) as con:
        held = store_info(con)
    counts = held.counts
    info = {
        "path": str(path),
        "size_mb": round(path.stat().st_size / 1e6, 1),
        "schema_version": held.schema_version,
        "counts": counts,
        "sources": [
            {"name": n, "kind": k, "files": f, "last_import": t} for n, k, f, t in held.sources
        ],
    }
    if args.format == "json":
        print(json.dumps(info, indent=2))
        return 0
    lines = [
        f"{'store':<23}{info['path']}",
        f"{'size':<23}{info['size_mb']} MB",
        f"{'schema version':<23}{info['schema_version']}",
    ]
    lines += [f"{name:<23}{count:,}" for name, count in counts.items()]
    lines.append("sources")
    lines += [
        f"  {s['name']} ({s['kind']}): {s['files']} file(s), last {s['last_import']}"
        for s in info["sources"]
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
