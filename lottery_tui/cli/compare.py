"""`lottery compare A B`: A vs B on every dataset both were evaluated on.

Paired (exact McNemar, mid-p, paired bootstrap) where both have per-image predictions; an
unpaired two-proportion test, labelled as such, where only aggregates exist.
"""

from __future__ import annotations

import argparse
import sys

from lottery_tui.cli.layout import add_wide_option, terminal_width
from lottery_tui.cli.report import add_statistics_options, selection_and_options
from lottery_tui.report.selection import COMPARE_RESAMPLES
from lottery_tui.safe_text import safe_lines


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="compare two models on each dataset (paired tests where possible)",
        description="Compare model A with model B on each dataset both have results on.",
    )
    parser.add_argument("model_a", metavar="A", help="model: SOURCE:NAME, or a NAME one source has")
    parser.add_argument("model_b", metavar="B", help="model: SOURCE:NAME, or a NAME one source has")
    add_statistics_options(parser, resamples=COMPARE_RESAMPLES)
    add_wide_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lottery_tui.api import open as open_store

    selection, options = selection_and_options(args)
    with open_store(args.db) as store:
        result = store.compare(args.model_a, args.model_b, selection, options)
    if args.format == "json":
        sys.stdout.write(result.to_json())
        return 0
    width = None if args.wide else terminal_width()
    sys.stdout.write(safe_lines(result.to_markdown(width=width)))
    return 0
