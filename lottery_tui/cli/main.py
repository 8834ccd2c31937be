"""Entry point of `lottery`: builds the argument parser from one module per command.

Each command module exposes `register(subparsers)`; it imports its heavy dependencies
(duckdb queries, statistics, torch) inside its handler so `lottery --help` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from lottery_tui.errors import LotteryError

COMMAND_MODULES = (
    "lottery_tui.cli.sql",
    "lottery_tui.cli.catalog",
    "lottery_tui.cli.importing",
    "lottery_tui.cli.db",
    "lottery_tui.cli.report",
    "lottery_tui.cli.compare",
    "lottery_tui.cli.probe",
    "lottery_tui.cli.runs",
)


def add_db_option(parser: argparse.ArgumentParser, *, top_level: bool = False) -> None:
    """`--db PATH`: the store to use (else $LOTTERY_DB, else the per-user data directory).

    Accepted before or after the command; a sub-command's copy must not reset the
    top-level value, hence SUPPRESS there.
    """
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=None if top_level else argparse.SUPPRESS,
        help="DuckDB store (default: $LOTTERY_DB, else the per-user data directory)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lottery",
        description="Is an ImageNet gain real, or a benchmark-lottery win? "
        "Without a command, opens the explorer.",
    )
    add_db_option(parser, top_level=True)
    parser.add_argument(
        "--reference",
        metavar="DATASET",
        default="imagenet",
        help="explorer only: the reference dataset deltas and verdicts are taken against "
        "(default: imagenet; R changes it in the explorer)",
    )
    parser.add_argument(
        "--source",
        metavar="NAME",
        default=None,
        help="explorer only: compute Rankings, Lottery and Plots over this import source's "
        "models (default: all sources; S changes it in the explorer)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            from lottery_tui.tui.launch import open_explorer

            return open_explorer(db=args.db, reference=args.reference, source=args.source)
        return int(args.func(args) or 0)
    except LotteryError as exc:
        print(f"lottery: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("lottery: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
