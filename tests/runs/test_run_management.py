"""Run management defects of issue 14, each reproduced: foreground runs visible to `lottery runs`,
model names checked against the store before launch, head files validated at plan time, job logs
that say something, run ids of resolved paths, `--executor` without a plan, early errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from lottery_tui.cli.main import main
from lottery_tui.runs import rundir
from lottery_tui.runs.launch import build_spec
from lottery_tui.runs.plan import load_plan
from lottery_tui.runs.status import scan_runs

from .tiny_probe import write_tiny_probe_plan


def _foreground(root: Path, *extra: str) -> list[str]:
    return [
        "probe",
        "--model",
        "tiny-fg",
        "--framework",
        "torchvision",
        "--dataset",
        f"imagenet={root / 'val'}",
        "--allow-subset",
        "--image-size",
        "32",
        "--batch-size",
        "4",
        "--results-dir",
        str(root / "results"),
        *extra,
    ]


@pytest.mark.torch
def test_foreground_run_is_listed_with_its_log(tmp_path: Path, store: Path, capsys) -> None:
    write_tiny_probe_plan(tmp_path, n_images=3, models=("tiny-r18",))
    db = ["--db", str(store)]
    args = _foreground(tmp_path, "--checkpoint", str(tmp_path / "tiny-r18.pth"))
    assert main([*args, *db]) == 0
    capsys.readouterr()
    where = ["--results-dir", str(tmp_path / "results"), *db]
    assert main(["runs", "list", "--json", *where]) == 0
    listing = capsys.readouterr().out
    assert '"state": "done"' in listing and "run directory missing" not in listing
    (run,) = scan_runs(tmp_path / "results")
    assert run.executor == "foreground" and run.state == "done"
    assert main(["runs", "logs", "tiny-fg--imagenet", *where]) == 0
    log = capsys.readouterr().out
    assert "tiny-fg on imagenet: done 3/3" in log


@pytest.mark.torch
def test_early_errors_are_one_line_leave_no_run_folder_and_name_the_head(
    tmp_path: Path, store: Path, capsys
) -> None:
    write_tiny_probe_plan(tmp_path, n_images=2, models=("tiny-r18",))
    ckpt = str(tmp_path / "tiny-r18.pth")
    db = ["--db", str(store)]
    head = ["--head", str(tmp_path / "no-head.pth")]
    assert main([*_foreground(tmp_path, "--checkpoint", ckpt, *head), *db]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "head file" in err and "checkpoint not found" not in err
    assert main([*_foreground(tmp_path, "--checkpoint", str(tmp_path / "none.pth")), *db]) == 2
    err = capsys.readouterr().err
    assert err.count("none.pth") == 1 and "does not exist" in err
    # A layout error (a DINO checkpoint has no fc) is printed once, not also by the progress bar.
    args = _foreground(tmp_path, "--checkpoint", ckpt, "--framework", "dino", *head[:1], ckpt)
    assert main([*args, *db]) == 2
    assert capsys.readouterr().err.count("unexpected keys") == 1
    assert not (tmp_path / "results").exists()


def test_executor_without_a_plan_is_an_error(tmp_path: Path, capsys) -> None:
    code = main(["probe", "--model", "m", "--executor", "slurm", "--db", str(tmp_path / "x.db")])
    assert code == 2
    assert "--executor slurm needs --plan FILE" in capsys.readouterr().err


@pytest.mark.torch
def test_plan_checks_model_names_and_head_files_before_launch(
    tmp_path: Path, store: Path, capsys
) -> None:
    import torch

    plan = write_tiny_probe_plan(tmp_path, n_images=2, models=("resnet50", "tiny-b"))
    pretrain = tmp_path / "swav_pretrain.pth"  # a pretraining checkpoint given as the head
    torch.save({"module.prototypes.weight": torch.zeros(30, 8)}, pretrain)
    text = plan.read_text()
    plan.write_text(text.replace('head = "builtin"', 'head = "linear:swav_pretrain.pth"', 1))
    results = tmp_path / "results"
    where = ["--results-dir", str(results), "--db", str(store)]
    assert main(["probe", "--plan", str(plan), *where]) == 2
    err = capsys.readouterr().err
    assert "model 'resnet50' is already in the store" in err
    assert "no linear classifier" in err and "column head" in err
    assert not scan_runs(results)


def test_run_ids_hash_resolved_paths(tmp_path: Path) -> None:
    (tmp_path / "data" / "val").mkdir(parents=True)
    (tmp_path / "plans").mkdir()
    body = (
        '[[models]]\nname = "m"\nframework = "dino"\ncheckpoint = "{p}ckpt.pth"\n'
        'head = "knn:{p}data/train"\n\n[[datasets]]\nid = "imagenet"\npath = "{p}data/val"\n'
    )
    (tmp_path / "plan.toml").write_text(body.format(p=""))
    (tmp_path / "plans" / "plan.toml").write_text(body.format(p="../"))
    ids = []
    for path in (tmp_path / "plan.toml", tmp_path / "plans" / "plan.toml"):
        plan = load_plan(path)
        spec = build_spec(plan, plan.models[0], plan.datasets[0], tmp_path / "results", "cpu")
        assert ".." not in spec.head_path and ".." not in spec.dataset_path
        ids.append(spec.run_id)
    assert ids[0] == ids[1]


@pytest.mark.torch
def test_local_jobs_write_their_log(tmp_path: Path, store: Path) -> None:
    """Two models of one dataset: one sweep, a log naming each run, each run ingested once."""
    import duckdb

    from .helpers import wait_for

    plan = write_tiny_probe_plan(tmp_path / "plan", n_images=3, models=("tiny-a", "tiny-b"))
    results = tmp_path / "results"
    where = ["--results-dir", str(results), "--db", str(store)]
    assert main(["probe", "--plan", str(plan), *where]) == 0
    assert wait_for(lambda: {r.state for r in scan_runs(results)} == {"done"}, 300)  # busy CI
    for run in scan_runs(results):
        log = "\n".join(rundir.tail(run.run_dir / rundir.LOG, 100))
        assert f"{run.model} on imagenet: start" in log
        assert f"{run.model} on imagenet: done 3/3" in log
    assert main(["runs", "sync", *where]) == 0
    assert main(["runs", "sync", *where]) == 0  # again: nothing new
    con = duckdb.connect(str(store), read_only=True)
    counts = con.execute(
        "SELECT model, count(*) FROM predictions "
        "WHERE dataset = 'imagenet' AND model LIKE 'tiny-%' GROUP BY model"
    ).fetchall()
    con.close()
    assert sorted(counts) == [("tiny-a", 3), ("tiny-b", 3)]
