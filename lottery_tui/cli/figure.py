"""`lottery figure KIND -o FILE`: one publication figure of a report, on the report's selection.

matplotlib and the statistics are imported inside the handler so `lottery --help` stays
instant; the drawing itself is `lottery_tui.figures`, the same code the Python API calls.
"""

from __future__ import annotations

import argparse

from lottery_tui.cli.report import add_selection_options, build
from lottery_tui.figures import KINDS, WIDTHS  # no matplotlib: that loads when a figure is drawn


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "figure",
        help="write one figure of the report (svg, pdf or png) for a paper",
        description="Draw one figure of `lottery report` on the same selection: "
        f"{', '.join(KINDS)} (docs/figures.md). The format comes from the output's suffix.",
    )
    parser.add_argument("kind", metavar="KIND", help=f"one of: {', '.join(KINDS)}")
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="svg, pdf or png")
    parser.add_argument(
        "--width",
        default="single",
        help=" or ".join(f"{name} ({inches} in)" for name, inches in WIDTHS.items())
        + " column (default: single)",
    )
    parser.add_argument("--target", metavar="DATASET", help="scatter: the variant to plot")
    add_selection_options(parser, output_format=False)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lottery_tui.errors import InputError
    from lottery_tui.figures import check_output, write_figure

    if args.kind not in KINDS:
        raise InputError(f"unknown figure kind {args.kind!r}; choose from {', '.join(KINDS)}")
    if args.width not in WIDTHS:
        raise InputError(f"--width: unknown width {args.width!r}; choose from {', '.join(WIDTHS)}")
    check_output(args.output)  # a bad suffix or folder fails before any statistics run
    figure = build(args).figure(args.kind, args.width, target=args.target)
    print(write_figure(figure, args.output))
    return 0
