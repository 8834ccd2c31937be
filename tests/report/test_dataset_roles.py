"""Dataset roles: builtin facts in the store, one family counted once by default, roles shown,
and Friedman's blocks independent."""

from __future__ import annotations

import calls
import duckdb
import numpy as np
import pytest

from analysis.friedman import friedman as friedman_test
from lottery_tui.errors import InputError
from lottery_tui.report import families
from lottery_tui.report.data import load_aggregates
from lottery_tui.report.population import friedman
from lottery_tui.report.render import report_markdown
from lottery_tui.store.datasets import Dataset, register_dataset
from lottery_tui.store.readers import dataset_roles

V2 = "imagenetv2-matched-frequency"
V2_VERSIONS = ("imagenetv2-threshold-0.7", "imagenetv2-top-images")


@pytest.fixture(scope="module")
def con(shipped_db):
    connection = duckdb.connect(str(shipped_db), read_only=True)
    yield connection
    connection.close()


def test_builtin_roles_are_stored(con):
    roles = dataset_roles(con)
    assert roles["imagenet-real"] == ("relabelling", "imagenet")
    assert roles["imagenet-r-clean"] == ("subset", "imagenet")
    assert roles["objectnet-clean"] == ("subset", "imagenet")
    assert all(roles[v] == ("version", V2) for v in V2_VERSIONS)
    assert roles["imagenet-sketch"] == ("variant", None) and roles[V2] == ("variant", None)


def test_one_variant_per_family_and_the_reference_family_left_out(con):
    roles = dataset_roles(con)
    every = sorted(roles)
    counted = families.independent(every, roles, "imagenet")
    assert V2 in counted and not set(V2_VERSIONS) & set(counted)
    assert not {"imagenet", "imagenet-real", "imagenet-r-clean", "objectnet-clean"} & set(counted)
    assert "imagenet-sketch" in counted and "imagenet-r" in counted
    # without the family's root, its first selected member stands for it
    assert families.independent(list(V2_VERSIONS), roles, "imagenet") == [V2_VERSIONS[0]]


def test_default_verdicts_count_v2_once_and_named_datasets_as_given(con):
    gains = calls.gains(con, source="timm", top=4, resamples=100)
    shown = {v.dataset for g in gains for v in g.variants}
    assert V2 in shown and not set(V2_VERSIONS) & shown
    assert not {"imagenet-real", "imagenet-r-clean", "imagenet-a-clean"} & shown
    named = calls.gains(
        con,
        source="imagenet-testbed",
        top=2,
        resamples=100,
        datasets=["imagenet-real", *V2_VERSIONS],
    )
    assert {v.dataset for v in named[0].variants} >= set(V2_VERSIONS)


def test_rank_agreement_shows_roles(con):
    rows = calls.agreement(con, top=20, resamples=50)
    role = {r.dataset: r.role for r in rows}
    assert role["imagenet-real"] == "relabelling of imagenet"
    assert role["imagenetv2-top-images"] == f"version of {V2}"
    assert role["imagenet-sketch"] == "variant"
    text = report_markdown(calls.report(con, source="timm", top=4))
    assert "relabelling of imagenet (imagenet-real)" in text


def test_friedman_blocks_are_one_per_family(con):
    agg = load_aggregates(con, source="timm")
    focus = list(agg.models[:5])
    result = friedman(agg, focus, 0.05)
    assert result is not None
    roots = [families.family(d, agg.roles) for d in result.datasets]
    assert len(roots) == len(set(roots))
    assert "imagenet" in result.datasets and V2 in result.datasets
    assert not {"imagenet-real", "imagenet-r-clean", *V2_VERSIONS} & set(result.datasets)


def test_friedman_at_perfect_agreement_has_no_f_and_no_zero_p():
    scores = np.tile(np.array([0.9, 0.8, 0.7, 0.6]), (5, 1))
    result = friedman_test(scores)
    assert result.chi2 == pytest.approx(5 * 3) and 0 < result.p_chi2 < 0.01
    assert np.isnan(result.iman_davenport_f) and np.isnan(result.p_iman_davenport)


def test_register_dataset_checks_its_role(empty_db, copy_store):
    con = duckdb.connect(str(copy_store(empty_db)))
    register_dataset(con, Dataset("cifar10.1-v4", "CIFAR-10.1 v4", 2021, 10))
    register_dataset(
        con,
        Dataset("cifar10.1-v6", "CIFAR-10.1 v6", 2000, 10, role="version", role_of="cifar10.1-v4"),
    )
    assert dataset_roles(con)["cifar10.1-v6"] == ("version", "cifar10.1-v4")
    with pytest.raises(InputError, match="must name the existing dataset"):
        register_dataset(con, Dataset("x", "x", 10, 10, role="subset", role_of="nope"))
    with pytest.raises(InputError, match="is not one of"):
        register_dataset(con, Dataset("y", "y", 10, 10, role="copy"))
    con.close()


def test_a_v3_store_gains_the_builtin_roles_on_open(empty_db, copy_store):
    from lottery_tui.store.connection import connect

    path = copy_store(empty_db)
    raw = duckdb.connect(str(path))
    raw.execute("ALTER TABLE datasets DROP COLUMN role")
    raw.execute("ALTER TABLE datasets DROP COLUMN role_of")
    raw.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    raw.close()
    con = connect(path, read_only=False)
    try:
        roles = dataset_roles(con)
        assert roles["imagenet-real"] == ("relabelling", "imagenet")
        assert roles["imagenetv2-top-images"] == ("version", V2)
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        assert version == ("4",)
    finally:
        con.close()
