"""`lottery import dataset --role ROLE --role-of ID`: what a user's dataset is to the others
(store.datasets.ROLES), through the real CLI; bad roles refused with one line, a non-zero exit
and an unchanged store."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from lottery_tui.cli.main import main
from lottery_tui.store.readers import dataset_roles

from .conftest import fingerprint


@pytest.fixture
def store(empty_db: Path, copy_store) -> Path:
    return copy_store(empty_db)


def roles(store: Path) -> dict[str, tuple[str, str | None]]:
    with duckdb.connect(str(store), read_only=True) as con:
        return dataset_roles(con)


def test_role_and_role_of_are_stored(store: Path, capsys) -> None:
    assert main(["import", "dataset", "val-night", "--role", "subset", "--role-of", "imagenet",
                 "--db", str(store)]) == 0  # fmt: skip
    assert main(["import", "dataset", "mine", "--db", str(store)]) == 0
    assert "registered dataset val-night" in capsys.readouterr().out
    stored = roles(store)
    assert stored["val-night"] == ("subset", "imagenet")
    assert stored["mine"] == ("variant", None)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--role", "copy", "--role-of", "imagenet"],
         "dataset role 'copy' is not one of variant, subset, relabelling, version"),
        (["--role", "subset"], "a subset must name the existing dataset it comes from, not None"),
        (["--role", "version", "--role-of", "nope"],
         "a version must name the existing dataset it comes from, not 'nope'"),
        (["--role-of", "imagenet"], "a variant is built from no other dataset (got 'imagenet')"),
        (["--role", "subset\x1b[2J", "--role-of", "imagenet"], "dataset role 'subset\\x1b[2J'"),
    ],
)  # fmt: skip
def test_bad_role_is_refused_with_one_line_and_nothing_written(
    store: Path, capsys, extra: list[str], expected: str
) -> None:
    before = fingerprint(store)
    code = main(["import", "dataset", "mine", *extra, "--db", str(store)])
    err = capsys.readouterr().err
    assert code != 0
    assert err.startswith(f"lottery: error: {expected}"), err
    assert err.count("\n") == 1 and "Traceback" not in err and "\x1b" not in err
    assert fingerprint(store) == before


def test_role_on_an_existing_dataset_is_refused(store: Path, tmp_path: Path, capsys) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("image_id,label\na.png,1\n")
    before = fingerprint(store)
    code = main(["import", "dataset", "imagenet-sketch", "--labels", str(labels), "--role",
                 "subset", "--role-of", "imagenet", "--db", str(store)])  # fmt: skip
    err = capsys.readouterr().err
    assert code != 0 and err.count("\n") == 1
    assert err.startswith("lottery: error: --role is given when registering; 'imagenet-sketch'")
    assert fingerprint(store) == before
