"""`lottery probe --plan` validation and `lottery runs list|logs|cancel|sync` on real processes."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from lottery_tui.cli.main import main
from lottery_tui.runs.executors.local import LocalExecutor
from lottery_tui.runs.launch import launch_plan
from lottery_tui.runs.plan import load_plan
from lottery_tui.runs.status import read_status, scan_runs

from .helpers import FAKE_JOB, wait_for, write_fake_plan


def test_a_bad_plan_reports_every_problem_and_launches_nothing(tmp_path: Path, capsys) -> None:
    plan = tmp_path / "plan.toml"
    val = tmp_path / "val"
    val.mkdir()
    plan.write_text(
        "\n".join(
            [
                "[defaults]",
                'device = "cpu"',
                "",
                "[[models]]",
                'name = "a"',
                'framework = "dino"',
                'checkpoint = "missing.pth"',
                'head = "linear:missing_head.pth"',
                "",
                "[[datasets]]",
                'id = "imagenet"',
                'path = "val"',
                "",
                "[[datasets]]",
                'id = "imagenet-sketch"',
                'path = "nowhere"',
            ]
        )
    )
    results = tmp_path / "results"
    code = main(
        [
            "probe",
            "--plan",
            str(plan),
            "--results-dir",
            str(results),
            "--db",
            str(tmp_path / "s.duckdb"),
        ]
    )
    err = capsys.readouterr().err
    assert code != 0
    lines = err.splitlines()
    assert lines[0].startswith(f"lottery: error: {plan}: 4 problem(s) in plan, nothing launched")
    assert f"{plan}, line 7, column checkpoint: model 'a': checkpoint" in err
    assert f"{plan}, line 8, column head: model 'a': head file" in err
    assert f"{plan}, line 12, column path: dataset 'imagenet': " in err  # empty folder
    assert f"{plan}, line 16, column path: dataset 'imagenet-sketch': " in err
    assert not results.exists()
    assert not (tmp_path / "s.duckdb").exists()


def test_runs_list_logs_cancel_and_sync(tmp_path: Path, store: Path, capsys) -> None:
    rules = {"bad": {"steps": 3, "fail": True, "fail_at": 1}, "slow": {"steps": 400, "delay": 0.05}}
    plan = load_plan(write_fake_plan(tmp_path / "plan", ["bad", "slow"], ["ds"], rules))
    results = tmp_path / "results"
    report = launch_plan(plan, LocalExecutor(results, FAKE_JOB, gpus=["0", "1"]), results)
    bad_dir, slow_dir = report.launched
    assert wait_for(lambda: read_status(bad_dir).state == "failed", 30)
    assert wait_for(lambda: (read_status(slow_dir).progress.done or 0) >= 2, 30)
    where = ["--results-dir", str(results), "--db", str(store)]

    assert main(["runs", "list", *where]) == 0
    out = capsys.readouterr().out
    bad_line = next(line for line in out.splitlines() if line.startswith(bad_dir.name))
    slow_line = next(line for line in out.splitlines() if line.startswith(slow_dir.name))
    assert "failed" in bad_line and "RuntimeError: fake failure" in bad_line
    assert "running" in slow_line and "/400 images" in slow_line and "img/s" in slow_line

    assert main(["runs", "logs", bad_dir.name[:8], *where]) == 0
    out = capsys.readouterr().out
    assert "something broke in the data loader" in out and "RuntimeError: fake failure" in out

    assert main(["runs", "cancel", slow_dir.name, *where]) == 0
    assert "stopped process group" in capsys.readouterr().out
    assert wait_for(lambda: read_status(slow_dir).state == "cancelled", 10)

    assert main(["runs", "list", "--json", *where]) == 0
    states = {
        row["model"]: row["state"] for row in map(json.loads, capsys.readouterr().out.splitlines())
    }
    assert states == {"bad": "failed", "slow": "cancelled"}

    con = duckdb.connect(str(store), read_only=True)
    stored = dict(con.execute("SELECT model, state FROM probe_runs").fetchall())
    n_predictions = con.execute(
        "SELECT count(*) FROM predictions WHERE model IN ('bad', 'slow')"
    ).fetchone()[0]
    ingested = con.execute("SELECT count(*) FROM probe_runs WHERE ingested").fetchone()[0]
    con.close()
    assert stored == {"bad": "failed", "slow": "cancelled"}
    assert n_predictions == 0 and ingested == 0  # a failed job ingests nothing
    assert {r.run_id for r in scan_runs(results)} == {bad_dir.name, slow_dir.name}


def test_runs_list_with_nothing_launched(tmp_path: Path, store: Path, capsys) -> None:
    assert main(["runs", "--results-dir", str(tmp_path / "none"), "--db", str(store)]) == 0
    assert "no runs yet" in capsys.readouterr().out


def test_runs_registered_in_the_store_are_listed_from_any_results_folder(
    tmp_path: Path, store: Path, capsys
) -> None:
    rules = {"*": {"steps": 2, "fail": True}}  # a failed run: nothing to ingest, state to keep
    plan = load_plan(write_fake_plan(tmp_path / "plan", ["m"], ["ds"], rules))
    first, other = tmp_path / "first", tmp_path / "other"
    (run_dir,) = launch_plan(plan, LocalExecutor(first, FAKE_JOB, gpus=[]), first).launched
    assert wait_for(lambda: read_status(run_dir).state == "failed", 30)
    assert main(["runs", "sync", "--results-dir", str(first), "--db", str(store)]) == 0
    capsys.readouterr()

    # Listed from another results folder through the registry, read from its own directory.
    assert main(["runs", "list", "--json", "--results-dir", str(other), "--db", str(store)]) == 0
    (row,) = map(json.loads, capsys.readouterr().out.splitlines())
    assert (row["run_id"], row["state"], row["run_dir"]) == (run_dir.name, "failed", str(run_dir))
    # ... and `logs` finds it there too, by a prefix of its id.
    where = ["--results-dir", str(other), "--db", str(store)]
    assert main(["runs", "logs", run_dir.name[:8], *where]) == 0
    assert "something broke in the data loader" in capsys.readouterr().out

    # Its directory gone: still listed, with its last known state.
    import shutil

    shutil.rmtree(first)
    assert main(["runs", "list", "--results-dir", str(other), "--db", str(store)]) == 0
    line = capsys.readouterr().out.splitlines()[1]
    assert line.startswith(run_dir.name) and "failed" in line and "run directory missing" in line
