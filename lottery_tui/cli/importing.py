"""`lottery import timm|results|predictions|dataset`: add results to the store, all or nothing.

Files are read and checked before the store is opened, so the write lock is held only for the
short transaction that writes them. All files of one command go in one transaction.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lottery_tui.cli.main import add_db_option
from lottery_tui.store.input_files import require_regular_files

if TYPE_CHECKING:
    from lottery_tui.store.outcome import ImportOutcome

SCALES = ("percent", "fraction")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import",
        help="import result files into the store",
        description="Import results. Each command is one transaction: on any error nothing is "
        "written. Each file becomes an import record (`lottery imports`); re-importing a file "
        "with the same sha256, source and options changes nothing. See docs/store.md.",
    )
    kinds = parser.add_subparsers(dest="import_kind", metavar="KIND", required=True)

    timm = kinds.add_parser("timm", help="timm results-*.csv files (any subset)")
    timm.add_argument("files", nargs="+", type=Path, metavar="FILE")
    timm.add_argument("--dataset", help="dataset id (default: from the file name)")
    _scale_and_source(timm, default_source="timm")
    timm.set_defaults(func=import_timm)

    long = kinds.add_parser(
        "results",
        help="result tables: long (model,dataset,top1[,top5][,n_images]) or wide (model plus "
        "one top-1 column per dataset)",
        description="Long CSV: model,dataset,top1[,top5][,n_images]. Wide CSV: a model column and "
        "one top-1 column per dataset (an empty cell: not evaluated); a column named after a "
        "dataset id is that dataset, --map COLUMN=DATASET names others (and wins over a column "
        "named DATASET), --skip-unmapped ignores the rest.",
    )
    long.add_argument("files", nargs="+", type=Path, metavar="FILE")
    long.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=DATASET",
        help="wide tables: import COLUMN as DATASET (repeatable)",
    )
    long.add_argument(
        "--skip-unmapped",
        action="store_true",
        help="wide tables: ignore columns that are neither mapped nor a dataset id",
    )
    _scale_and_source(long, default_source="user")
    long.set_defaults(func=import_long)

    preds = kinds.add_parser(
        "predictions",
        help="per-image predictions of one model (CSV or Parquet)",
        description="Columns: image id (image_id/file_name) or image_idx, predicted class "
        "(pred/predicted_class), optional label; a CSV may have no header (id, pred[, label]).",
    )
    preds.add_argument("file", type=Path, metavar="FILE", nargs="?")
    preds.add_argument("--model", help="model name")
    preds.add_argument("--dataset", help="dataset id, e.g. imagenet")
    preds.add_argument(
        "--manifest",
        type=Path,
        metavar="FILE",
        help="CSV file,model,dataset (paths relative to it): many files in one transaction",
    )
    preds.add_argument("--source", default="user", help="source label (default: user)")
    preds.add_argument(
        "--file-labels-win",
        action="store_true",
        help="score against the file's label column where it disagrees with the dataset's "
        "labels (default: refuse such a file)",
    )
    add_db_option(preds)
    preds.set_defaults(func=import_predictions)

    dataset = kinds.add_parser(
        "dataset",
        help="register a new dataset (optionally with its labels)",
        description="Register a dataset. --labels FILE: CSV image_id,label (multi-label: the "
        "classes separated by spaces, empty for an unscored image).",
    )
    dataset.add_argument("dataset_id", metavar="ID", help="lower-case id, e.g. my-imagenet-c")
    dataset.add_argument("--name", help="display name (default: the id)")
    dataset.add_argument("--classes", type=int, default=1000, help="number of classes")
    dataset.add_argument("--images", type=int, help="number of images scored")
    dataset.add_argument("--multi-label", action="store_true")
    dataset.add_argument("--shares-images-with", metavar="ID")
    dataset.add_argument("--labels", type=Path, metavar="FILE")
    dataset.add_argument(
        "--role",
        help="what it is to the others: variant (an independent test set, the default), or a "
        "subset, relabelling or version of the dataset --role-of names; one family counts once "
        "in verdicts, lottery indices, swap counts and Friedman",
    )
    dataset.add_argument("--role-of", metavar="ID", help="the dataset a non-variant comes from")
    add_db_option(dataset)
    dataset.set_defaults(func=import_dataset)


def _scale_and_source(parser: argparse.ArgumentParser, *, default_source: str) -> None:
    parser.add_argument(
        "--scale",
        choices=SCALES,
        help="accuracy scale when detection cannot tell (default: detect)",
    )
    parser.add_argument(
        "--source",
        default=default_source,
        help=f"source label (default: {default_source})",
    )
    add_db_option(parser)


def import_timm(args: argparse.Namespace) -> int:
    from lottery_tui.store.timm_import import parse_timm_csv, write_timm

    return _import_files(
        args,
        lambda p: parse_timm_csv(p, dataset_id=args.dataset, scale=args.scale),
        lambda _con, parsed: parsed,
        write_timm,
    )


def import_long(args: argparse.Namespace) -> int:
    from lottery_tui.store.long_import import write_long
    from lottery_tui.store.wide_import import parse_mapping, parse_results, resolve_results

    mapping = parse_mapping(args.map)
    return _import_files(
        args,
        lambda p: parse_results(
            p, scale=args.scale, mapping=mapping, skip_unmapped=args.skip_unmapped
        ),
        resolve_results,
        write_long,
    )


def _import_files(
    args: argparse.Namespace,
    parse: Callable[[Path], Any],
    resolve: Callable[[Any, Any], Any],
    write: Callable[..., ImportOutcome],
) -> int:
    """Every file parsed and checked before the store is opened, then all written in one
    transaction, so the write lock is held briefly and a bad file writes nothing. A result
    given by two of the files is refused, naming both (`resolve` gives each file's rows, once
    the store's datasets are known)."""
    from lottery_tui.store.connection import write_transaction
    from lottery_tui.store.csvfile import refuse_shared_keys

    require_regular_files(args.files)
    parsed = [parse(p) for p in args.files]
    with write_transaction(args.db) as con:
        ready = [resolve(con, f) for f in parsed]
        refuse_shared_keys([(f.path, f.keys()) for f in ready])
        outcomes = [write(con, f, source_name=args.source) for f in ready]
    return _report(outcomes)


def import_predictions(args: argparse.Namespace) -> int:
    from lottery_tui.errors import InputError
    from lottery_tui.store.connection import write_transaction
    from lottery_tui.store.manifest import parse_manifest
    from lottery_tui.store.predictions_import import (
        PredictionImport,
        parse_predictions,
        write_prediction_files,
    )

    if args.manifest is not None:
        if args.file is not None or args.model or args.dataset:
            raise InputError("--manifest names every file, model and dataset: give it alone")
        require_regular_files([args.manifest])
        files = [
            PredictionImport(parse_predictions(e.file), e.model, e.dataset)
            for e in parse_manifest(args.manifest)
        ]
    elif args.file is None or not args.model or not args.dataset:
        raise InputError("give FILE --model M --dataset D, or --manifest FILE")
    else:
        require_regular_files([args.file])
        files = [PredictionImport(parse_predictions(args.file), args.model, args.dataset)]
    with write_transaction(args.db) as con:
        outcomes = write_prediction_files(
            con, files, source_name=args.source, file_labels_win=args.file_labels_win
        )
    return _report(outcomes)


def import_dataset(args: argparse.Namespace) -> int:
    """Register a dataset, or give an existing one without images (e.g. imagenet-sketch) its
    labels, so that predictions files naming its images can be imported."""
    from lottery_tui.errors import InputError
    from lottery_tui.store.connection import connect, write_transaction
    from lottery_tui.store.datasets import (
        VARIANT,
        Dataset,
        get_dataset,
        has_labels,
        register_dataset,
        set_image_count,
    )
    from lottery_tui.store.labels_import import parse_labels_csv, write_labels
    from lottery_tui.store.predictions import rederive_multi_label

    # The labels are read before the write transaction opens, so the lock is never held while a
    # file is read; they are checked against the classes the dataset has (or will have).
    require_regular_files([args.labels])
    labels, shape = None, (args.classes, args.multi_label)
    if args.labels is not None:
        with connect(args.db, read_only=True) as con:
            known = get_dataset(con, args.dataset_id)
        if known is not None:
            shape = (known.n_classes, known.multi_label)
        labels = parse_labels_csv(args.labels, n_classes=shape[0], multi_label=shape[1])
    with write_transaction(args.db) as con:
        dataset = get_dataset(con, args.dataset_id)
        if dataset is None:
            dataset = Dataset(
                args.dataset_id,
                args.name or args.dataset_id,
                args.images,
                args.classes,
                args.multi_label,
                args.shares_images_with,
                role=args.role or VARIANT,
                role_of=args.role_of,
            )
            register_dataset(con, dataset)
            action = "registered dataset"
        elif args.labels is None:
            raise InputError(f"dataset {args.dataset_id!r} already exists")
        elif args.role is not None or args.role_of is not None:
            raise InputError(f"--role is given when registering; {args.dataset_id!r} exists")
        elif has_labels(con, dataset.dataset_id):
            raise InputError(f"dataset {args.dataset_id!r} already has its images and labels")
        else:
            action = "added labels to dataset"
        labelled = ""
        if labels is not None:
            if dataset.shares_images_with and dataset.class_subset:
                raise InputError("a dataset that shares another's images takes its labels from it")
            if (dataset.n_classes, dataset.multi_label) != shape:
                raise InputError(
                    f"dataset {args.dataset_id!r} changed while its labels were read; run again"
                )
            write_labels(
                con,
                dataset.dataset_id,
                labels,
                multi_label=dataset.multi_label,
                shares_images_with=dataset.shares_images_with,
            )
            if dataset.n_images is None:
                scored = sum(1 for classes in labels.labels if classes)
                set_image_count(con, dataset.dataset_id, scored)
            rederive_multi_label(con, dataset.dataset_id)
            labelled = f" with {len(labels.image_ids)} labelled images"
    print(f"{action} {args.dataset_id}{labelled}")
    return 0


def _report(outcomes: list[ImportOutcome]) -> int:
    for outcome in outcomes:
        print(outcome.summary())
    return 0
