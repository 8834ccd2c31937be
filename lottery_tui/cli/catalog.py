"""`lottery models` and `lottery datasets`: what the store holds, with filters."""

from __future__ import annotations

import argparse
import sys

from lottery_tui.cli.main import add_db_option
from lottery_tui.cli.sql import add_format_option, render


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
    add_format_option(models)
    add_db_option(models)
    models.set_defaults(func=list_models)

    datasets = subparsers.add_parser(
        "datasets", help="list datasets with their image counts and results"
    )
    add_format_option(datasets)
    add_db_option(datasets)
    datasets.set_defaults(func=list_datasets)


MODELS_QUERY = """
SELECT m.name AS model, m.framework, m.family, m.architecture, m.img_size,
       m.param_count AS params_m,
       string_agg(DISTINCT r.dataset_id, ',' ORDER BY r.dataset_id) AS datasets,
       m.source
FROM models m
LEFT JOIN aggregate_results r ON r.model_id = m.model_id
GROUP BY ALL
HAVING ($like IS NULL OR m.name GLOB $like OR m.source || ':' || m.name GLOB $like)
   AND ($source IS NULL OR m.source = $source)
   AND ($family IS NULL OR m.family = $family)
   AND ($framework IS NULL OR m.framework = $framework)
   AND ($dataset IS NULL OR list_contains(list(r.dataset_id), $dataset))
ORDER BY m.name, m.source
"""

DATASETS_QUERY = """
SELECT d.dataset_id AS dataset, d.display_name AS name, d.n_images AS images,
       d.n_classes AS classes, d.multi_label, d.shares_images_with AS shares_images,
       (SELECT count(*) FROM aggregate_results r WHERE r.dataset_id = d.dataset_id) AS results,
       (SELECT count(DISTINCT model_id) FROM image_predictions p
         WHERE p.dataset_id = d.dataset_id) AS per_image_models
FROM datasets d
ORDER BY d.builtin DESC, d.dataset_id
"""


def list_models(args: argparse.Namespace) -> int:
    params = {k: getattr(args, k) for k in ("like", "source", "family", "framework", "dataset")}
    return _print_query(args, MODELS_QUERY, params)


def list_datasets(args: argparse.Namespace) -> int:
    return _print_query(args, DATASETS_QUERY)


def _print_query(args: argparse.Namespace, query: str, params: dict | None = None) -> int:
    from lottery_tui.store.connection import connect

    with connect(args.db, read_only=True) as con:
        table = con.sql(query, params=params).to_arrow_table()
    sys.stdout.write(render(table, args.format))
    return 0
