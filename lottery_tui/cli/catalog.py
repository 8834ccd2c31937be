"""`lottery models` and `lottery datasets`: what the store holds, with filters."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from lottery_tui.cli.main import add_db_option
from lottery_tui.cli.sql import add_format_option, render


def add_tag_options(parser: argparse.ArgumentParser) -> None:
    """--pretraining and --protocol: only models with these tags (docs/store.md)."""
    from lottery_tui.store.pretraining import PRETRAINING, PROTOCOLS

    parser.add_argument("--pretraining", choices=PRETRAINING, help="only models pretrained so")
    parser.add_argument(
        "--protocol", choices=PROTOCOLS, help="only models whose ImageNet head was made so"
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    models = subparsers.add_parser(
        "models",
        help="list models with their metadata and datasets",
        description="List models. Filters combine; --like takes a glob ('resnet50*').",
    )
    models.add_argument("--like", metavar="GLOB", help="model name glob, e.g. 'vit_*dino*'")
    models.add_argument("--source", help="only models of this source (identity SOURCE:NAME)")
    models.add_argument("--family", help="architecture family, e.g. resnet, vit")
    models.add_argument("--framework", help="pretraining framework, e.g. supervised, dino, mae")
    models.add_argument("--dataset", help="only models with a result on this dataset")
    add_tag_options(models)
    add_format_option(models)
    add_db_option(models)
    models.set_defaults(func=list_models)

    datasets = subparsers.add_parser(
        "datasets", help="list datasets with their image counts and results"
    )
    add_format_option(datasets)
    add_db_option(datasets)
    datasets.set_defaults(func=list_datasets)


def list_models(args: argparse.Namespace) -> int:
    from lottery_tui.store.catalog import ModelQuery, list_models

    names = ("like", "source", "family", "framework", "dataset", "pretraining", "protocol")
    query = ModelQuery(**{name: getattr(args, name) for name in names})
    return _print(args, lambda con: list_models(con, query))


def list_datasets(args: argparse.Namespace) -> int:
    from lottery_tui.store.catalog import list_datasets

    return _print(args, list_datasets)


def _print(args: argparse.Namespace, read: Callable[[Any], Any]) -> int:
    from lottery_tui.store.connection import connect

    with connect(args.db, read_only=True) as con:
        table = read(con)
    sys.stdout.write(render(table, args.format))
    return 0
