"""Ingest exactly once (with ReaL derived from val), and `lottery probe` -> store -> report."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import numpy as np
import pytest
import torch

from lottery_tui.cli.main import main
from lottery_tui.errors import InputError
from lottery_tui.probe import engine
from lottery_tui.probe.ingest import ingest_run, read_run_dir
from lottery_tui.store.connection import write_transaction
from tests.probe.conftest import read_predictions, val_names, write_image

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(empty_db, copy_store) -> Path:
    return copy_store(empty_db)


@pytest.fixture
def finished_run(resnet18, val_folder, tmp_path, make_spec) -> Path:
    torch.save(resnet18.state_dict(), tmp_path / "r18.pth")
    spec = make_spec(
        model="tiny-r18", checkpoint=str(tmp_path / "r18.pth"), dataset_path=str(val_folder)
    )
    engine.run_job(spec, tmp_path / "run")
    return tmp_path / "run"


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_ingest_once_with_real_derived_by_file_name(store, finished_run):
    run = read_run_dir(finished_run)
    with write_transaction(store) as con:
        first = ingest_run(con, run)
    with write_transaction(store) as con:
        again = ingest_run(con, read_run_dir(finished_run))
    assert first.ingested and not again.ingested
    counts = dict(
        query(
            store, "SELECT dataset, count(*) FROM predictions WHERE model = 'tiny-r18' GROUP BY 1"
        )
    )
    real = json.loads((REPO / "data" / "imagenet" / "real.json").read_text())
    names = val_names(12)
    scored = [n for n in names if real[int(n[15:23]) - 1]]
    r_clean = [
        int(x) for x in (REPO / "data" / "imagenet" / "imagenet_r_indices.txt").read_text().split()
    ]
    a_clean = [
        int(x) for x in (REPO / "data" / "imagenet" / "imagenet_a_indices.txt").read_text().split()
    ]
    rows = read_predictions(finished_run)
    assert counts == {
        "imagenet": 12,
        "imagenet-real": len(scored),
        "imagenet-r-clean": sum(r["label"] in r_clean for r in rows.values()),
        "imagenet-a-clean": sum(r["label"] in a_clean for r in rows.values()),
    }

    expected_real = {n: rows[n]["pred"] in real[int(n[15:23]) - 1] for n in scored}
    got_real = dict(
        query(
            store,
            "SELECT image_id, correct FROM predictions "
            "WHERE model = 'tiny-r18' AND dataset = 'imagenet-real'",
        )
    )
    assert got_real == expected_real
    top1 = query(
        store, "SELECT top1 FROM results WHERE model = 'tiny-r18' AND dataset = 'imagenet'"
    )
    assert top1[0][0] == pytest.approx(100 * np.mean([r["correct"] for r in rows.values()]))
    # torchvision weights with their own head: supervised, fine-tuned (store/pretraining.py)
    assert query(
        store,
        "SELECT DISTINCT source, pretraining, protocol FROM results WHERE model = 'tiny-r18'",
    ) == [("probe", "supervised", "fine-tuned")]
    run = query(
        store,
        "SELECT state, ingested, json_extract_string(config, '$.checkpoint_sha256') "
        "FROM probe_runs",
    )
    assert run[0][:2] == ("done", True) and len(run[0][2]) == 64
    n_sources = query(store, "SELECT count(*) FROM sources WHERE kind = 'probe'")[0][0]
    n_shards = 3 + sum(1 for _ in (finished_run / "shards" / "derived").iterdir())
    assert n_sources == n_shards  # one per shard, each with its sha256


def test_unfinished_run_ingests_nothing(store, tmp_path):
    (tmp_path / "run").mkdir()
    assert read_run_dir(tmp_path / "run") is None
    assert query(store, "SELECT count(*) FROM sources WHERE kind = 'probe'")[0][0] == 0


def test_changed_shard_is_refused_and_nothing_is_written(store, finished_run):
    shard = sorted((finished_run / "shards").iterdir())[1]
    shard.write_bytes(shard.read_bytes() + b"x")
    with pytest.raises(InputError, match="checksum differs"):
        read_run_dir(finished_run)
    assert query(store, "SELECT count(*) FROM models WHERE name = 'tiny-r18'")[0][0] == 0


def test_new_dataset_images_are_added_on_first_ingest(resnet18, store, tmp_path, make_spec):
    rng = np.random.default_rng(0)
    for folder in ("3", "30"):
        write_image(tmp_path / "v2" / folder / "a.jpeg", rng)
    torch.save(resnet18.state_dict(), tmp_path / "r18.pth")
    spec = make_spec(
        model="v2-model",
        checkpoint=str(tmp_path / "r18.pth"),
        dataset="imagenetv2-matched-frequency",
        dataset_path=str(tmp_path / "v2"),
    )
    engine.run_job(spec, tmp_path / "run")
    run = read_run_dir(tmp_path / "run")
    with write_transaction(store) as con:
        ingest_run(con, run)
    images = query(
        store,
        "SELECT image_id, label FROM images "
        "WHERE dataset_id = 'imagenetv2-matched-frequency' ORDER BY 1",
    )
    assert images == [("3/a.jpeg", 3), ("30/a.jpeg", 30)]


def probe_args(
    store: Path, tmp_path: Path, checkpoint: Path, val: Path, model: str = "cli-r18"
) -> list[str]:
    return [
        "probe",
        "--db",
        str(store),
        "--model",
        model,
        "--framework",
        "torchvision",
        "--checkpoint",
        str(checkpoint),
        "--dataset",
        f"imagenet={val}",
        "--results-dir",
        str(tmp_path / "runs"),
        "--image-size",
        "32",
        "--allow-subset",
        "--chunk-size",
        "5",
        "--batch-size",
        "4",
    ]


def test_lottery_probe_to_store_to_report(
    resnet18, shipped_db, copy_store, val_folder, tmp_path, capsys
):
    store = copy_store(shipped_db)
    torch.save(resnet18.state_dict(), tmp_path / "r18.pth")
    args = probe_args(store, tmp_path, tmp_path / "r18.pth", val_folder, model="convit_probe")
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "convit_probe" in out and "imagenet-real (derived)" in out and "ingested" in out
    stored = query(
        store, "SELECT dataset, n_images FROM results WHERE model = 'convit_probe' ORDER BY 1"
    )
    assert stored[0] == ("imagenet", 12)

    assert main(args) == 0  # the same command again finds the finished run, stores nothing twice
    assert "already in store" in capsys.readouterr().out
    assert (
        query(
            store,
            "SELECT count(*) FROM predictions WHERE model = 'convit_probe' "
            "AND dataset = 'imagenet'",
        )[0][0]
        == 12
    )

    # next to two shipped models whose names share the prefix
    code = main(
        [
            "report",
            "--db",
            str(store),
            "--models",
            "convit*",
            "--datasets",
            "imagenet",
            "imagenet-real",
            "--format",
            "json",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    gains = report["marginal_gains"]
    assert any("convit_probe" in (g["model"], g["below"]) for g in gains)


def test_failed_probe_leaves_nothing_in_the_store(resnet18, store, val_folder, tmp_path, capsys):
    state = dict(resnet18.state_dict())
    del state["layer2.1.conv1.weight"]
    torch.save(state, tmp_path / "bad.pth")
    code = main(probe_args(store, tmp_path, tmp_path / "bad.pth", val_folder))
    err = capsys.readouterr().err
    assert code != 0
    assert "missing keys [layer2.1.conv1.weight]" in err.splitlines()[-1]
    assert query(store, "SELECT count(*) FROM models WHERE name = 'cli-r18'")[0][0] == 0
    assert query(store, "SELECT count(*) FROM probe_runs")[0][0] == 0


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ([], "needs --model, --framework, --checkpoint, --dataset ID=PATH"),
    ],
)
def test_probe_usage_errors(store, capsys, extra, match):
    assert main(["probe", "--db", str(store), *extra]) != 0
    assert match in capsys.readouterr().err


def test_unknown_framework_is_named(store, capsys):
    code = main(
        [
            "probe",
            "--db",
            str(store),
            "--model",
            "m",
            "--framework",
            "mocov2",
            "--checkpoint",
            "x.pth",
            "--dataset",
            "imagenet=/tmp",
        ]
    )
    assert code != 0
    assert "--framework 'mocov2': unknown (known: barlow-twins" in capsys.readouterr().err


def test_bad_dataset_argument_is_named(store, tmp_path, capsys):
    code = main(
        [
            "probe",
            "--db",
            str(store),
            "--model",
            "m",
            "--framework",
            "dino",
            "--checkpoint",
            "x.pth",
            "--dataset",
            "imagenet",
        ]
    )
    assert code != 0
    assert "--dataset 'imagenet': expected ID=PATH" in capsys.readouterr().err


def test_plan_is_delegated_to_the_runs_command(store, tmp_path, capsys):
    (tmp_path / "plan.toml").write_text("models = [\n")
    code = main(
        ["probe", "--db", str(store), "--plan", str(tmp_path / "plan.toml"), "--executor", "local"]
    )
    assert code != 0
    assert "plan.toml" in capsys.readouterr().err


def test_probe_refuses_a_model_name_from_an_import(
    shipped_db, copy_store, val_folder, tmp_path, capsys, monkeypatch
):
    store = copy_store(shipped_db)
    monkeypatch.setattr(engine, "run_job", lambda *a, **k: pytest.fail("ran before checking"))
    args = probe_args(store, tmp_path, tmp_path / "r18.pth", val_folder, model="convit_small")
    assert main(args) != 0
    assert "'convit_small' is already in the store" in capsys.readouterr().err


def test_val_run_also_scores_the_r_and_a_classes(resnet18, store, tmp_path, make_spec):
    import pyarrow.parquet as pq

    from tests.probe.conftest import Reference, top5

    shipped = REPO / "data" / "imagenet"
    table = pq.read_table(shipped / "val_labels.parquet")
    labels = dict(zip(table["image_id"].to_pylist(), table["label"].to_pylist(), strict=True))
    subsets = {
        name: [int(x) for x in (shipped / f"imagenet_{name[-1]}_indices.txt").read_text().split()]
        for name in ("imagenet-r", "imagenet-a")
    }
    in_r = [n for n in sorted(labels) if labels[n] in subsets["imagenet-r"]][:3]
    in_a = [n for n in sorted(labels) if labels[n] in subsets["imagenet-a"]][:2]
    neither = [n for n in sorted(labels) if all(labels[n] not in s for s in subsets.values())][:2]
    rng = np.random.default_rng(8)
    for name in {*in_r, *in_a, *neither}:
        write_image(tmp_path / "val" / name, rng)
    torch.save(resnet18.state_dict(), tmp_path / "r18.pth")
    spec = make_spec(
        model="clean-r18", checkpoint=str(tmp_path / "r18.pth"), dataset_path=str(tmp_path / "val")
    )
    result = engine.run_job(spec, tmp_path / "run")

    paths = sorted((tmp_path / "val").iterdir())
    with torch.no_grad():
        logits = resnet18(Reference().inputs(paths))
    for clean, subset in (("imagenet-r-clean", "imagenet-r"), ("imagenet-a-clean", "imagenet-a")):
        members = [i for i, p in enumerate(paths) if labels[p.name] in subsets[subset]]
        expected = dict(
            zip(
                [paths[i].name for i in members],
                top5(logits[members], subsets[subset]),
                strict=True,
            )
        )
        got = {}
        for shard in (tmp_path / "run" / "shards" / "derived").glob(f"predictions-{clean}-*"):
            got.update({r["image_id"]: r["top5"] for r in pq.read_table(shard).to_pylist()})
        assert got == expected
        assert result.derived[clean].n_images == len(members)

    run = read_run_dir(tmp_path / "run")
    with write_transaction(store) as con:
        outcome = ingest_run(con, run)
    assert set(outcome.accuracies) == {
        "imagenet",
        "imagenet-real",
        "imagenet-r-clean",
        "imagenet-a-clean",
    }
    stored = dict(query(store, "SELECT dataset, n_images FROM results WHERE model = 'clean-r18'"))
    for clean, subset in (("imagenet-r-clean", "imagenet-r"), ("imagenet-a-clean", "imagenet-a")):
        assert stored[clean] == sum(labels[p.name] in subsets[subset] for p in paths)


def test_a_shard_listed_twice_is_refused_in_one_line(store, finished_run):
    result_path = finished_run / "result.json"
    result = json.loads(result_path.read_text())
    result["shards"].append(result["shards"][0])
    result_path.write_text(json.dumps(result))
    with pytest.raises(InputError, match="listed twice"):
        read_run_dir(finished_run)
    assert query(store, "SELECT count(*) FROM models WHERE name = 'tiny-r18'")[0][0] == 0


def test_runs_sync_reads_every_shard_before_its_write_transaction(store, finished_run, monkeypatch):
    """The shards vanish the moment the write lock is taken: the ingest still lands whole, so
    nothing was read inside the transaction (a slow or blocking file never holds the lock)."""
    from lottery_tui.runs.status import read_status
    from lottery_tui.runs.sync import sync_store
    from lottery_tui.store import connection

    status = read_status(finished_run)
    assert status.state == "done"
    original = connection.write_transaction
    shards = finished_run / "shards"

    opened = []

    def hide_shards_then_lock(db):
        opened.append(db)
        if len(opened) == 2:  # the first transaction registers the run, the second ingests it
            shards.rename(finished_run / "gone")
        return original(db)

    monkeypatch.setattr(connection, "write_transaction", hide_shards_then_lock)
    report = sync_store(store, [status], known={})
    assert len(opened) == 2 and not shards.exists()
    assert report.ingest_errors == [] and report.ingested == [status.run_id]
    stored = query(store, "SELECT count(*) FROM predictions WHERE model = 'tiny-r18'")[0][0]
    assert stored > 12  # val plus the datasets derived from its logits


def test_unreadable_shard_is_one_line_before_any_lock(store, finished_run, monkeypatch):
    result_path = finished_run / "result.json"
    result = json.loads(result_path.read_text())
    shard = finished_run / "shards" / result["shards"][0]["name"]
    shard.write_bytes(b"not parquet")
    result["shards"][0]["sha256"] = hashlib.sha256(b"not parquet").hexdigest()
    result_path.write_text(json.dumps(result))
    with pytest.raises(InputError, match="not a readable Parquet file") as caught:
        read_run_dir(finished_run)
    assert str(shard) in str(caught.value) and "\n" not in str(caught.value)
