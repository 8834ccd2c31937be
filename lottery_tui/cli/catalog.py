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

    same = subparsers.add_parser(
        "same",
        help="declare two models the same checkpoint (their evidence combines)",
        description="Declare model B the same checkpoint as model A (say, one name in two "
        "sources): statistics then read B's rows as A's, per dataset from one of them (the "
        "one with per-image predictions there, A first), and B is no longer a model of its "
        "own. `lottery models` shows it in the same_as column.",
    )
    same.add_argument("model", metavar="A", help="the model to keep: SOURCE:NAME or NAME")
    same.add_argument("alias", metavar="B", nargs="?", help="the same checkpoint as A")
    same.add_argument(
        "--undo", action="store_true", help="make A (SOURCE:NAME) a model of its own again"
    )
    add_db_option(same)
    same.set_defaults(func=declare_same)

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


def declare_same(args: argparse.Namespace) -> int:
    from lottery_tui.errors import InputError
    from lottery_tui.store import identity
    from lottery_tui.store.connection import write_transaction

    if args.undo == (args.alias is not None):
        raise InputError("give two models A B, or one model with --undo")
    with write_transaction(args.db) as con:
        if args.undo:
            alias = identity.exact_model(con, args.model)
            identity.undeclare_same(con, alias)
            print(f"{alias.qualified} is a model of its own again")
            return 0
        keep = identity.resolve_model(con, args.model)
        alias = identity.resolve_model(con, args.alias)
        identity.declare_same(con, keep, alias)
    print(f"{alias.qualified} is now read as {keep.qualified}")
    return 0


def list_datasets(args: argparse.Namespace) -> int:
    from lottery_tui.store.catalog import list_datasets

    return _print(args, list_datasets)


def _print(args: argparse.Namespace, read: Callable[[Any], Any]) -> int:
    from lottery_tui.store.connection import connect

    with connect(args.db, read_only=True) as con:
        table = read(con)
    sys.stdout.write(render(table, args.format))
    return 0
