"""`lottery compare A B`: A vs B on every dataset both were evaluated on.

Paired (exact McNemar, mid-p, paired bootstrap) where both have per-image predictions; an
unpaired two-proportion test, labelled as such, where only aggregates exist.
"""

from __future__ import annotations

import argparse
import sys

from lottery_tui.cli.layout import add_wide_option, safe_lines, terminal_width
from lottery_tui.cli.report import add_statistics_options


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="compare two models on each dataset (paired tests where possible)",
        description="Compare model A with model B on each dataset both have results on.",
    )
    parser.add_argument("model_a", metavar="A", help="model: SOURCE:NAME, or a NAME one source has")
    parser.add_argument("model_b", metavar="B", help="model: SOURCE:NAME, or a NAME one source has")
    add_statistics_options(parser, resamples=10000)
    add_wide_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lottery_tui.report.render import compare_json, compare_markdown
    from lottery_tui.report.service import compare
    from lottery_tui.store.connection import connect
    from lottery_tui.store.identity import ModelFilter, resolve_model

    keep = ModelFilter(args.source, args.pretraining, args.protocol)
    with connect(args.db, read_only=True) as con:
        a, b = (resolve_model(con, spec, keep) for spec in (args.model_a, args.model_b))
        rows = compare(
            con,
            a.qualified,
            b.qualified,
            datasets=args.datasets,
            source=args.source,
            pretraining=args.pretraining,
            protocol=args.protocol,
            resamples=args.resamples,
            seed=args.seed,
            adjust_method=args.adjust,
        )
    if args.format == "json":
        sys.stdout.write(compare_json(a.qualified, b.qualified, rows))
        return 0
    width = None if args.wide else terminal_width()
    sys.stdout.write(safe_lines(compare_markdown(a.qualified, b.qualified, rows, width=width)))
    return 0
