"""`lottery models` and `lottery datasets`: what the store holds, with filters."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lottery_tui.cli.layout import add_wide_option, dropped_note, fit_columns, terminal_width
from lottery_tui.cli.main import add_db_option
from lottery_tui.cli.sql import add_format_option, render

if TYPE_CHECKING:
    import pyarrow as pa

# Columns a narrow terminal keeps first (the first column always stays).
MODEL_COLUMNS = [
    "model", "source", "datasets", "pretraining", "protocol", "framework", "params_m",
    "img_size", "family", "architecture", "same_as",
]  # fmt: skip
DATASET_COLUMNS = [
    "dataset", "images", "results", "per_image_models", "classes", "shares_images",
    "multi_label", "name",
]  # fmt: skip


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
    add_wide_option(models)
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
        "datasets",
        help="list datasets with their image counts and results",
        description="List the store's datasets: id (what --reference, --datasets and "
        "--dataset take), display name, images scored, classes, whether labels are multi-label, "
        "the dataset whose images it shares (ReaL and the -clean subsets share ImageNet val's), "
        "how many aggregate results it has, and how many models have per-image predictions "
        "on it (paired tests need those).",
    )
    add_format_option(datasets)
    add_wide_option(datasets)
    add_db_option(datasets)
    datasets.set_defaults(func=list_datasets)


def list_models(args: argparse.Namespace) -> int:
    from lottery_tui.store.catalog import ModelQuery, list_models

    names = ("like", "source", "family", "framework", "dataset", "pretraining", "protocol")
    query = ModelQuery(**{name: getattr(args, name) for name in names})
    return _print(args, lambda con: list_models(con, query), MODEL_COLUMNS, _count_datasets)


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

    return _print(args, list_datasets, DATASET_COLUMNS)


def _print(
    args: argparse.Namespace,
    read: Callable[[Any], pa.Table],
    priority: list[str],
    narrow: Callable[[pa.Table], pa.Table] | None = None,
) -> int:
    """CSV and JSON whole; the text table with the columns that fit the terminal (`narrow`
    first makes wide columns compact), unless --wide."""
    from lottery_tui.store.connection import connect

    with connect(args.db, read_only=True) as con:
        table = read(con)
    if args.format != "table" or args.wide:
        sys.stdout.write(render(table, args.format))
        return 0
    width = terminal_width()
    table, dropped = fit_columns(narrow(table) if narrow else table, width, priority)
    sys.stdout.write(render(table, "table") + dropped_note(dropped, width))
    return 0


def _count_datasets(table: pa.Table) -> pa.Table:
    """The datasets column as the number of datasets with results (--wide lists them)."""
    import pyarrow.compute as pc

    names = table.column("datasets")
    counts = pc.fill_null(pc.list_value_length(pc.split_pattern(names, ",")), 0)
    return table.set_column(table.column_names.index("datasets"), "datasets", counts)
