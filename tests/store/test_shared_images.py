"""User datasets sharing images partly, by image id (CIFAR-10.1 v4 and v6 share about 93 %):
`lottery import dataset ... --shares-images-with OTHER --labels FILE`; the joint bootstrap then
draws the shared images together."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest

from lottery_tui.cli.main import main
from lottery_tui.report.context import ReportContext
from lottery_tui.report.data import load_aggregates, load_image_data
from lottery_tui.report.draws import resample
from lottery_tui.report.labels import IMAGE_BOOTSTRAP
from lottery_tui.report.selection import Options, Selection

from .conftest import fingerprint

N_V4, N_V6, N_COMMON = 400, 380, 360  # v6 shares 360 of its 380 images with v4


def run(args: list[str], db: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main([*args, "--db", str(db)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def build(store: Path, folder: Path, capsys, *, share: bool) -> dict[str, dict[str, int]]:
    """v4 and v6 (10 classes) with labels, and 3 models' predictions on both: each model is
    right on the same shared images in both datasets. Returns image id -> label per dataset."""
    rng = np.random.default_rng(7)
    common = [f"common-{i:04d}.png" for i in range(N_COMMON)]
    ids = {
        "v4": common + [f"v4-{i:04d}.png" for i in range(N_V4 - N_COMMON)],
        "v6": common + [f"v6-{i:04d}.png" for i in range(N_V6 - N_COMMON)],
    }
    label_of = {image: int(rng.integers(0, 10)) for images in ids.values() for image in images}
    labels = {d: {i: label_of[i] for i in images} for d, images in ids.items()}
    right = {m: {i: bool(rng.random() < 0.6) for i in label_of} for m in ("a", "b", "c")}
    for dataset in ("v4", "v6"):
        path = folder / f"{dataset}-labels.csv"
        path.write_text(
            "image_id,label\n" + "".join(f"{i},{c}\n" for i, c in labels[dataset].items())
        )
        extra = ["--shares-images-with", "v4"] if dataset == "v6" and share else []
        args = ["import", "dataset", dataset, "--classes", "10", "--labels", str(path), *extra]
        code, _, err = run(args, store, capsys)
        assert code == 0, err
    lines = ["file,model,dataset"]
    for model, hits in right.items():
        for dataset, images in labels.items():
            path = folder / f"{model}-{dataset}.csv"
            preds = {i: c if hits[i] else (c + 1) % 10 for i, c in images.items()}
            rows = "".join(f"{i},{p}\n" for i, p in preds.items())
            path.write_text("image_id,pred\n" + rows)
            lines.append(f"{path.name},{model},{dataset}")
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    code, _, err = run(["import", "predictions", "--manifest", str(folder / "manifest.csv")],
                       store, capsys)  # fmt: skip
    assert code == 0, err
    return labels


@pytest.fixture
def shared_store(empty_db: Path, copy_store, tmp_path: Path, capsys) -> Path:
    store = copy_store(empty_db)
    build(store, tmp_path, capsys, share=True)
    return store


def test_shared_images_take_the_other_datasets_index(shared_store: Path) -> None:
    con = duckdb.connect(str(shared_store), read_only=True)
    try:
        rows = con.execute(
            "SELECT dataset_id, image_id, image_idx FROM images WHERE dataset_id IN ('v4', 'v6')"
        ).fetchall()
        n_images = dict(con.execute(
            "SELECT dataset_id, n_images FROM datasets WHERE dataset_id IN ('v4', 'v6')"
        ).fetchall())  # fmt: skip
        view = con.execute(
            "SELECT dataset, count(*), count(DISTINCT image_id) FROM predictions "
            "WHERE model = 'a' GROUP BY 1 ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    index = {(d, i): k for d, i, k in rows}
    v4_ids = {i for d, i, _ in rows if d == "v4"}
    v6_ids = {i for d, i, _ in rows if d == "v6"}
    assert len(v4_ids & v6_ids) == N_COMMON
    for image in v4_ids & v6_ids:
        assert index["v4", image] == index["v6", image]
    # v6's own images get indices no v4 image has
    assert not {index["v6", i] for i in v6_ids - v4_ids} & {index["v4", i] for i in v4_ids}
    assert n_images == {"v4": N_V4, "v6": N_V6}
    # the public view shows each dataset's own images, once
    assert view == [("v4", N_V4, N_V4), ("v6", N_V6, N_V6)]


def test_shared_images_get_identical_draws(shared_store: Path) -> None:
    con = duckdb.connect(str(shared_store), read_only=True)
    try:
        agg = load_aggregates(con, datasets=["v4", "v6"])
        data = load_image_data(con, ["v4", "v6"], [agg.find(m) for m in ("a", "b", "c")])
        ids = dict(con.execute(
            "SELECT image_idx, image_id FROM images WHERE dataset_id = 'v4'"
        ).fetchall())  # fmt: skip
    finally:
        con.close()
    correct, scored = data.image_set.correct, data.image_set.scored
    assert set(correct) == {"v4", "v6"}  # one image set: one weight matrix for both
    both = scored["v4"] & scored["v6"]
    assert both.sum() == N_COMMON
    assert all(ids[k].startswith("common-") for k in np.flatnonzero(both))
    # on a shared image, both datasets hold the same image's outcome in the same row
    assert (correct["v4"][both] == correct["v6"][both]).all()


def correlation_of_draws(store: Path) -> float:
    con = duckdb.connect(str(store), read_only=True)
    try:
        ctx = ReportContext.load(con, Selection("v4", ["v6"]))
        models = [ctx.agg.find(m) for m in ("a", "b", "c")]
        draws = resample(ctx, models, ["v4", "v6"], Options(resamples=2000))
    finally:
        con.close()
    assert draws.method["v4"] == draws.method["v6"] == IMAGE_BOOTSTRAP
    return float(np.corrcoef(draws.draws["v4"][:, 0], draws.draws["v6"][:, 0])[0, 1])


def test_the_joint_bootstrap_pairs_shared_images_and_only_them(
    shared_store: Path, empty_db: Path, tmp_path: Path, capsys
) -> None:
    unshared = tmp_path / "unshared.duckdb"
    unshared.write_bytes(empty_db.read_bytes())
    (tmp_path / "u").mkdir()
    build(unshared, tmp_path / "u", capsys, share=False)
    paired = correlation_of_draws(shared_store)
    independent = correlation_of_draws(unshared)
    # 360 of 380 / 400 images in common: the accuracies move together (expected ~0.9)
    assert paired > 0.8
    assert abs(independent) < 0.1


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--shares-images-with", "nope"], "dataset 'nope' (whose images are shared) does not"),
        (["--shares-images-with", "imagenet-real"],
         "dataset 'imagenet-real' shares the images of 'imagenet': share with 'imagenet'"),
        (["--shares-images-with", "imagenet"],
         "no image of this file is an image of dataset 'imagenet' (matched by image_id)"),
    ],
)  # fmt: skip
def test_bad_sharing_is_refused_with_the_store_unchanged(
    args: list[str], expected: str, empty_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    store = copy_store(empty_db)
    labels = tmp_path / "labels.csv"
    labels.write_text("image_id,label\nx.png,1\n")
    before = fingerprint(store)
    code, _, err = run(["import", "dataset", "mine", "--labels", str(labels), *args], store, capsys)
    assert code != 0
    assert expected in err and err.count("\n") == 1
    assert fingerprint(store) == before
