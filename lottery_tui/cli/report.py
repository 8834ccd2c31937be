"""`lottery report`: rank agreement, marginal gains and lottery verdicts, as markdown or JSON.

Statistics are imported inside the handler so `lottery --help` stays instant.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lottery_tui.cli.catalog import add_tag_options
from lottery_tui.cli.main import add_db_option
from lottery_tui.report.selection import (
    ADJUSTMENTS,
    DEFAULT_FOCUS,
    REPORT_RESAMPLES,
    Options,
    Selection,
)
from lottery_tui.safe_text import safe_lines

if TYPE_CHECKING:
    from lottery_tui.api import ReportResult

FORMATS = ("markdown", "json")


def add_statistics_options(
    parser: argparse.ArgumentParser, *, resamples: int, output_format: bool = True
) -> None:
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
        "--alpha",
        type=float,
        default=Options.alpha,
        help=f"tests at alpha, intervals at 1 - alpha (default: {Options.alpha})",
    )
    parser.add_argument(
        "--adjust",
        choices=ADJUSTMENTS,
        default=Options.adjustment,
        help="multiplicity adjustment (default: holm; bh = Benjamini-Hochberg)",
    )
    if output_format:
        parser.add_argument("--format", choices=FORMATS, default="markdown")
    add_db_option(parser)


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def selection_and_options(args: argparse.Namespace) -> tuple[Selection, Options]:
    """What `report` and `compare` were asked, as the objects the API takes."""
    selection = Selection(
        reference=getattr(args, "reference", Selection.reference),
        datasets=args.datasets,
        models=getattr(args, "models", None),
        source=args.source,
        pretraining=args.pretraining,
        protocol=args.protocol,
    )
    options = Options(
        resamples=args.resamples, alpha=args.alpha, adjustment=args.adjust, seed=args.seed
    )
    return selection, options


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="is each ImageNet gain real or a lottery win? (rank agreement, verdicts)",
        description="Rank agreement between the reference and every other dataset, and a "
        "verdict for each marginal gain near the top of the reference ranking.",
    )
    add_selection_options(parser, output_format=True)
    parser.add_argument(
        "--figures",
        metavar="DIR",
        help="also write every figure (svg) into DIR and link them from the markdown",
    )
    parser.set_defaults(func=run)


def add_selection_options(parser: argparse.ArgumentParser, *, output_format: bool) -> None:
    """The report's selection: `lottery report` and `lottery figure` take the same flags."""
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
    add_statistics_options(parser, resamples=REPORT_RESAMPLES, output_format=output_format)


def build(args: argparse.Namespace) -> ReportResult:
    """The report the selection flags ask for, through the Python API (`lottery report` and
    `lottery figure` alike)."""
    from lottery_tui.api import open as open_store

    selection, options = selection_and_options(args)
    pairs = [(a, b) for a, b in args.pair or []]
    with open_store(args.db) as store:
        return store.report(selection, options, top=args.top, pairs=pairs)


def run(args: argparse.Namespace) -> int:
    report = build(args)
    links = ""
    if args.figures:
        from lottery_tui.figures import write_figures

        written = write_figures(report, args.figures)
        lines = ["", "## Figures", ""]
        lines += [f"![{kind}]({Path(args.figures) / path.name})" for kind, path in written.items()]
        links = "\n".join(lines) + "\n"
    if args.format == "json":
        sys.stdout.write(report.to_json())
    else:
        sys.stdout.write(safe_lines(report.to_markdown() + links))
    return 0
