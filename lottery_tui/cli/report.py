"""`lottery report`: rank agreement, marginal gains and lottery verdicts, as markdown or JSON.

Statistics are imported inside the handler so `lottery --help` stays instant.
"""

from __future__ import annotations

import argparse
import sys

from lottery_tui.cli.catalog import add_tag_options
from lottery_tui.cli.layout import safe_lines
from lottery_tui.cli.main import add_db_option
from lottery_tui.report.defaults import DEFAULT_FOCUS

FORMATS = ("markdown", "json")
ADJUST_METHODS = ("holm", "bh", "hochberg", "holm-sidak", "bonferroni")


def add_statistics_options(parser: argparse.ArgumentParser, *, resamples: int) -> None:
    parser.add_argument("--datasets", nargs="+", metavar="DATASET", help="datasets to include")
    add_tag_options(parser)
    parser.add_argument(
        "--source", help="only models of this source (e.g. timm), per-image data included"
    )
    parser.add_argument(
        "--resamples",
        type=positive_int,
        default=resamples,
        help=f"bootstrap resamples (default: {resamples})",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument(
        "--adjust",
        choices=ADJUST_METHODS,
        default="holm",
        help="multiplicity adjustment (default: holm; bh = Benjamini-Hochberg)",
    )
    parser.add_argument("--format", choices=FORMATS, default="markdown")
    add_db_option(parser)


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="is each ImageNet gain real or a lottery win? (rank agreement, verdicts)",
        description="Rank agreement between the reference and every other dataset, and a "
        "verdict for each marginal gain near the top of the reference ranking.",
    )
    parser.add_argument("--reference", default="imagenet", help="reference dataset")
    parser.add_argument(
        "--models",
        metavar="GLOB",
        help="only models whose name matches GLOB (SOURCE:NAME when GLOB has a ':')",
    )
    parser.add_argument(
        "--top",
        type=positive_int,
        metavar="N",
        help="only the top N models on the reference (default: rank agreement uses every "
        f"selected model; marginal gains and the other top-of-ranking sections the top "
        f"{DEFAULT_FOCUS})",
    )
    parser.add_argument(
        "--pair",
        nargs=2,
        action="append",
        metavar=("A", "B"),
        help="also judge the gain of model A over model B (SOURCE:NAME or NAME; repeatable)",
    )
    add_statistics_options(parser, resamples=1000)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lottery_tui.report.render import report_json, report_markdown
    from lottery_tui.report.service import ReportOptions, build_report
    from lottery_tui.store.connection import connect

    options = ReportOptions(
        reference=args.reference,
        datasets=args.datasets,
        models=args.models,
        source=args.source,
        pretraining=args.pretraining,
        protocol=args.protocol,
        top=args.top,
        resamples=args.resamples,
        seed=args.seed,
        adjust_method=args.adjust,
        pairs=[tuple(pair) for pair in args.pair or []],
    )
    with connect(args.db, read_only=True) as con:
        report = build_report(con, options)
    if args.format == "json":
        sys.stdout.write(report_json(report))
    else:
        sys.stdout.write(safe_lines(report_markdown(report)))
    return 0
