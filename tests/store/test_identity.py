"""Model identity = (source, name): the collision of issue 10 end to end, and the resolver."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from lottery_tui.cli.main import main
from lottery_tui.errors import InputError
from lottery_tui.report.data import load_aggregates, load_image_data
from lottery_tui.report.labels import AGGREGATE, PAIRED
from lottery_tui.store.identity import ModelRef, display_names, resolve_model, select_models

# Torchvision's checkpoints as the ImageNet testbed lists them (val top-1), under the names
# the per-image source uses for timm's weights.
TESTBED_CSV = """model,dataset,top1
resnet50,imagenet,76.13
resnet50,imagenet-sketch,24.09
vgg11,imagenet,69.02
vgg11,imagenet-sketch,16.59
densenet121,imagenet,74.43
densenet121,imagenet-sketch,23.71
resnet152,imagenet,78.31
resnet152,imagenet-sketch,28.54
"""


@pytest.fixture(scope="module")
def collided(shipped_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped store after `lottery import results t.csv --source testbed`."""
    folder = tmp_path_factory.mktemp("collided")
    db = folder / "store.duckdb"
    db.write_bytes(shipped_db.read_bytes())
    csv = folder / "t.csv"
    csv.write_text(TESTBED_CSV)
    assert main(["--db", str(db), "import", "results", str(csv), "--source", "testbed"]) == 0
    return db


AR = "analysing-relations"  # its resnet50 and vgg11 share names with the testbed


def lottery(db: Path, capsys, command: str, *args: str) -> tuple[int, str, str]:
    """`lottery --db DB COMMAND... ARGS...`, the command written as one space-separated string."""
    code = main(["--db", str(db), *command.split(), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_import_under_another_source_keeps_both_models_rows(collided: Path) -> None:
    # the shipped imagenet-testbed's resnet50 (all its datasets) is a third model, left out here
    rows = query(
        collided,
        "SELECT source, dataset, top1 FROM results WHERE model = 'resnet50' "
        "AND source <> 'imagenet-testbed' ORDER BY ALL",
    )
    assert rows == [
        ("analysing-relations", "imagenet", 80.386),
        ("analysing-relations", "imagenet-real", pytest.approx(85.7186, abs=1e-4)),
        ("testbed", "imagenet", 76.13),
        ("testbed", "imagenet-sketch", 24.09),
    ]
    assert query(collided, "SELECT count(*) FROM models WHERE name = 'resnet50'") == [(3,)]
    # Per-image rows stay with the per-image source's model.
    assert query(collided, "SELECT DISTINCT source FROM predictions WHERE model = 'resnet50'") == [
        ("analysing-relations",)
    ]


def test_report_per_source_reads_only_that_sources_models(collided: Path, capsys) -> None:
    code, out, _ = lottery(
        collided,
        capsys,
        "report --source analysing-relations --format json --resamples 50",
    )
    assert code == 0
    report = json.loads(out)
    assert {row["n_models"] for row in report["rank_agreement"]} == {15}
    real = report["rank_agreement"][0]
    assert real["dataset"] == "imagenet-real" and real["mode"] == PAIRED

    code, out, _ = lottery(
        collided,
        capsys,
        "report --source testbed --pair resnet50 vgg11 --format json --resamples 50",
    )
    assert code == 0
    gains = json.loads(out)["marginal_gains"]
    pair = gains[-1]
    assert (pair["model"], pair["below"]) == ("resnet50", "vgg11")
    assert pair["mode"] == AGGREGATE
    assert pair["delta"] == pytest.approx(0.7613 - 0.6902)


def test_report_pair_across_sources_with_qualified_names(collided: Path, capsys) -> None:
    code, out, _ = lottery(
        collided,
        capsys,
        "report",
        "--datasets",
        "imagenet-sketch",
        "--models",
        "*resnet50*",
        "--pair",
        "testbed:resnet50",
        "timm:resnet50.tv_in1k",
        "--format",
        "json",
        "--resamples",
        "50",
    )
    assert code == 0
    pair = json.loads(out)["marginal_gains"][-1]
    # Both resnet50 identities are in the selection, so each is shown as SOURCE:NAME.
    assert (pair["model"], pair["below"]) == ("testbed:resnet50", "resnet50.tv_in1k")


def test_compare_per_source(collided: Path, capsys) -> None:
    code, out, _ = lottery(
        collided, capsys, "compare resnet50 vgg11 --source testbed --format json"
    )
    assert code == 0
    data = json.loads(out)
    assert (data["model_a"], data["model_b"]) == ("testbed:resnet50", "testbed:vgg11")
    rows = {r["dataset"]: r for r in data["comparisons"]}
    assert set(rows) == {"imagenet", "imagenet-sketch"}
    assert all(r["mode"] == AGGREGATE for r in rows.values())
    assert rows["imagenet"]["acc_a"] == pytest.approx(0.7613)

    code, out, _ = lottery(
        collided,
        capsys,
        "compare resnet50 vgg11 --source analysing-relations --format json --resamples 100",
    )
    assert code == 0
    rows = {r["dataset"]: r for r in json.loads(out)["comparisons"]}
    assert set(rows) == {"imagenet", "imagenet-real"}
    assert rows["imagenet"]["mode"] == PAIRED
    assert rows["imagenet"]["acc_a"] == pytest.approx(0.80386)


def test_compare_the_two_checkpoints_of_one_name(collided: Path, capsys) -> None:
    code, out, _ = lottery(
        collided,
        capsys,
        "compare analysing-relations:resnet50 testbed:resnet50 --format json",
    )
    assert code == 0
    (row,) = json.loads(out)["comparisons"]
    assert row["dataset"] == "imagenet" and row["mode"] == AGGREGATE
    assert row["delta"] == pytest.approx(0.80386 - 0.7613, abs=1e-4)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            "compare resnet50 vgg11",
            "model 'resnet50' is in 3 sources; write one of analysing-relations:resnet50, "
            "imagenet-testbed:resnet50, testbed:resnet50",
        ),
        ("report --pair resnet50 vgg11", "model 'resnet50' is in 3 sources"),
        (
            "compare resnet50 convit_tiny --source testbed",
            "no model 'convit_tiny' among --source 'testbed'",
        ),
        ("compare testbed:resnet50 vgg11 --source timm", "is not among --source 'timm'"),
        ("compare vgg11 analysing-relations:vgg11", "is in 3 sources"),
        ("compare testbed:vgg11 testbed:vgg11", "are the same model"),
    ],
)
def test_ambiguous_or_unknown_names_fail_in_one_line(
    collided: Path, capsys, args: str, expected: str
) -> None:
    code, _, err = lottery(collided, capsys, args)
    assert code != 0
    assert err.startswith("lottery: error: ") and expected in err
    assert err.count("\n") == 1


def test_resolver_and_display_names(collided: Path) -> None:
    con = duckdb.connect(str(collided), read_only=True)
    try:
        ref = resolve_model(con, "testbed:resnet50")
        assert (ref.source, ref.name) == ("testbed", "resnet50")
        assert resolve_model(con, "resnet50", "testbed") == ref
        assert resolve_model(con, "convit_tiny").source == "analysing-relations"
        with pytest.raises(InputError, match="unknown source 'nobody'"):
            resolve_model(con, "resnet50", "nobody")
        assert [r.qualified for r in select_models(con, pattern="testbed:res*")] == [
            "testbed:resnet152",
            "testbed:resnet50",
        ]
        assert len(select_models(con, pattern="resnet50")) == 3  # and imagenet-testbed's
    finally:
        con.close()
    a, b, c = ModelRef("x", "m", 1), ModelRef("y", "m", 2), ModelRef("y", "n", 3)
    assert display_names([a, b, c]) == {a: "x:m", b: "y:m", c: "n"}


def test_two_identities_declared_one_checkpoint_combine_their_evidence(
    shipped_db: Path, copy_store, capsys
) -> None:
    """analysing-relations' resnet50 and vgg11 are timm's default weights: declared the same
    checkpoints as timm's rows, the per-image predictions pair the timm models on val and ReaL
    while timm's aggregates cover the other datasets."""
    store = copy_store(shipped_db)
    for keep, alias in [
        ("timm:resnet50.a1_in1k@224", "analysing-relations:resnet50"),
        ("timm:vgg11.tv_in1k", "analysing-relations:vgg11"),
    ]:
        code, out, _ = lottery(store, capsys, f"same {keep} {alias}")
        assert code == 0 and "is now read as" in out
    code, out, _ = lottery(
        store, capsys, "compare resnet50.a1_in1k@224 vgg11.tv_in1k --format json --resamples 100"
    )
    assert code == 0
    rows = {r["dataset"]: r for r in json.loads(out)["comparisons"]}
    assert rows["imagenet"]["mode"] == PAIRED and rows["imagenet-real"]["mode"] == PAIRED
    assert rows["imagenet"]["acc_a"] == pytest.approx(0.80386)  # the per-image rows' accuracy
    assert rows["imagenet-r"]["mode"] == AGGREGATE
    assert rows["imagenet-r"]["acc_a"] == pytest.approx(
        query(
            store,
            "SELECT top1 / 100 FROM results WHERE model = 'resnet50.a1_in1k@224' "
            "AND dataset = 'imagenet-r'",
        )[0][0],
        abs=1e-4,  # the unpaired test counts round(accuracy x images) correct
    )
    # The alias is no model of its own any more, and its name stands for the timm model.
    code, out, _ = lottery(store, capsys, "report --source analysing-relations --format json "
                                          "--resamples 20")  # fmt: skip
    assert {row["n_models"] for row in json.loads(out)["rank_agreement"]} == {13}
    both = f"compare {AR}:resnet50 {AR}:vgg11 --format json --resamples 20"
    code, out, _ = lottery(store, capsys, both)
    data = json.loads(out)
    assert (data["model_a"], data["model_b"]) == (
        "timm:resnet50.a1_in1k@224",
        "timm:vgg11.tv_in1k",
    )
    code, out, _ = lottery(store, capsys, "models --like resnet50 --format json")
    assert [(m["source"], m["same_as"]) for m in json.loads(out)] == [
        ("analysing-relations", "timm:resnet50.a1_in1k@224"),
        ("imagenet-testbed", None),  # torchvision's weights: another checkpoint
    ]
    # Undone, both are models of their own again.
    code, out, _ = lottery(store, capsys, "same analysing-relations:resnet50 --undo")
    assert code == 0
    code, out, _ = lottery(store, capsys, both)
    assert json.loads(out)["model_a"] == "analysing-relations:resnet50"


def test_declaring_a_model_the_same_as_itself_is_refused(collided: Path, capsys) -> None:
    code, _, err = lottery(collided, capsys, "same testbed:vgg11 testbed:vgg11")
    assert code != 0 and "is already" in err and err.count("\n") == 1


def test_a_model_keeps_its_own_rows_over_an_aliases(shipped_db: Path, copy_store, capsys) -> None:
    """Where both have per-image rows, the model's own are read, accuracy and images alike."""
    store = copy_store(shipped_db)
    assert lottery(store, capsys, f"same {AR}:resnet50 {AR}:vgg11")[0] == 0
    con = duckdb.connect(str(store), read_only=True)
    try:
        keep = resolve_model(con, f"{AR}:resnet50")
        assert resolve_model(con, f"{AR}:vgg11") == keep
        agg = load_aggregates(con, datasets=["imagenet"], refs=[keep])
        assert agg.models == [keep]
        assert agg.column("imagenet")[0] == pytest.approx(0.80386)
        data = load_image_data(con, ["imagenet"], [keep])
        assert data.image_set.correct["imagenet"].mean() == pytest.approx(0.80386)
    finally:
        con.close()
