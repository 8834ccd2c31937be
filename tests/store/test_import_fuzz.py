"""Hypothesis fuzz of the CSV importers: valid files round-trip exactly; any other bytes either
import cleanly or fail with an InputError and leave the store as it was."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lottery_tui.errors import InputError
from lottery_tui.store.datasets import BUILTIN_DATASETS
from lottery_tui.store.long_import import parse_long_csv, write_long
from lottery_tui.store.timm_import import parse_timm_csv, write_timm

from .conftest import fingerprint_connection

DATASET_IDS = [d.dataset_id for d in BUILTIN_DATASETS]
FUZZ = settings(
    max_examples=60,
    database=None,  # no .hypothesis folder in the repository
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

model_names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=20,
)
percent = st.floats(min_value=0, max_value=100, allow_nan=False).map(lambda v: round(v, 3))


@pytest.fixture
def memory_con(memory_store) -> duckdb.DuckDBPyConnection:
    """One in-memory store per test function; examples roll their writes back."""
    return memory_store()


@st.composite
def long_rows(draw: st.DrawFn) -> list[tuple[str, str, float, float | None]]:
    keys = draw(
        st.lists(
            st.tuples(model_names, st.sampled_from(DATASET_IDS)),
            min_size=1,
            max_size=15,
            unique=True,
        )
    )
    rows = []
    for model, dataset in keys:
        top1 = draw(percent)
        top5 = draw(st.one_of(st.none(), st.floats(min_value=top1, max_value=100)))
        rows.append((model, dataset, top1, top5))
    # percent files need one value above 1 to be unambiguous
    model, dataset, _, top5 = rows[0]
    rows[0] = (model, dataset, draw(st.floats(min_value=1.5, max_value=100)), None)
    return rows


def import_then_undo(
    con: duckdb.DuckDBPyConnection,
    write: Callable[[], object],
    check: Callable[[], None] = lambda: None,
) -> None:
    """Like write_transaction (rolled back on error), then `check` the written state and roll
    back anyway, so one in-memory store serves every example."""
    con.begin()
    try:
        write()
        check()
    finally:
        con.rollback()


@FUZZ
@given(rows=long_rows())
def test_valid_long_csv_round_trips(rows, memory_con, tmp_path: Path) -> None:
    path = tmp_path / "fuzz.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["model", "dataset", "top1", "top5"])
        writer.writerows([m, d, repr(t1), "" if t5 is None else repr(t5)] for m, d, t1, t5 in rows)
    con = memory_con

    def check() -> None:
        stored = {
            (m, d): (t1, t5)
            for m, d, t1, t5 in con.execute(
                "SELECT model, dataset, top1, top5 FROM results"
            ).fetchall()
        }
        assert len(stored) == len(rows)
        for model, dataset, top1, top5 in rows:
            got1, got5 = stored[(model.strip(), dataset)]
            assert math.isclose(got1, top1, rel_tol=1e-9, abs_tol=1e-9)
            assert (got5 is None) == (top5 is None)
            if top5 is not None:
                assert math.isclose(got5, top5, rel_tol=1e-9, abs_tol=1e-9)

    import_then_undo(con, lambda: write_long(con, parse_long_csv(path)), check)


VALID_LONG = b"model,dataset,top1,top5\nvit,imagenet,81.5,95.25\nresnet,imagenet-r,40,\n"
VALID_TIMM = (
    b"model,img_size,top1,top1_err,top5,top5_err,param_count,crop_pct,interpolation,top1_diff\n"
    b'a.x,224,80.1,19.9,95.0,5.0,"1,013.01",0.875,bicubic,+1.5\n'
    b"a.x,288,81.1,18.9,95.5,4.5,25.56,1.0,bicubic,\n"
)


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    data = bytearray(base)
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        op = draw(st.sampled_from(["flip", "insert", "delete"]))
        position = draw(st.integers(min_value=0, max_value=max(len(data) - 1, 0)))
        if op == "insert" or not data:
            data.insert(position, draw(st.sampled_from(b'",\n\r\xff\xc3-.0159eE \t')))
        elif op == "delete":
            del data[position]
        else:
            data[position] = draw(st.integers(min_value=0, max_value=255))
    return bytes(data)


@FUZZ
@given(content=st.one_of(mutated(VALID_LONG), st.binary(max_size=200)))
def test_any_long_csv_bytes_import_or_fail_cleanly(content, memory_store, tmp_path: Path) -> None:
    check_import_or_clean_failure(
        content,
        memory_store(),
        tmp_path / "long.csv",
        lambda p, con: write_long(con, parse_long_csv(p)),
    )


@FUZZ
@given(content=mutated(VALID_TIMM))
def test_any_timm_csv_bytes_import_or_fail_cleanly(content, memory_con, tmp_path: Path) -> None:
    check_import_or_clean_failure(
        content,
        memory_con,
        tmp_path / "results-imagenet.csv",
        lambda p, con: write_timm(con, parse_timm_csv(p)),
    )


def check_import_or_clean_failure(content: bytes, con, path: Path, importer) -> None:
    path.write_bytes(content)
    before = fingerprint_connection(con)

    def check() -> None:
        results = con.execute("SELECT top1, top5 FROM results").fetchall()
        assert results, "a clean import writes at least one result"
        for top1, top5 in results:
            assert 0 <= top1 <= 100
            assert top5 is None or top1 <= top5 <= 100

    try:
        import_then_undo(con, lambda: importer(path, con), check)
    except InputError as exc:
        message = str(exc)
        assert message.startswith(str(path)), message
        assert "\n" not in message
    assert fingerprint_connection(con) == before


def test_fuzz_helpers_see_a_valid_file_as_valid(memory_store, tmp_path: Path) -> None:
    con = memory_store()
    path = tmp_path / "ok.csv"
    path.write_bytes(VALID_LONG)
    write_long(con, parse_long_csv(path))
    assert sorted(con.execute("SELECT model, top1 FROM results").fetchall()) == [
        ("resnet", 40.0),
        ("vit", 81.5),
    ]
    path.write_bytes(VALID_LONG.replace(b"81.5", b"8x.5"))
    with pytest.raises(InputError, match="line 2, column top1: not a number"):
        parse_long_csv(path)
