"""The real probe job (`python -m lottery_tui.probe.job`) launched from a plan through the CLI,
followed and ingested through `lottery runs`: every shard lands in the store exactly once."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from lottery_tui.cli.main import main
from lottery_tui.runs import rundir
from lottery_tui.runs.status import scan_runs

from .helpers import wait_for
from .tiny_probe import write_tiny_probe_plan

pytestmark = pytest.mark.torch


def _count(db: Path, sql: str, params=()) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchone()[0]
    finally:
        con.close()


def test_plan_runs_real_probe_jobs_and_ingests_each_shard_once(
    tmp_path: Path, store: Path, capsys
) -> None:
    plan = write_tiny_probe_plan(tmp_path / "plan", n_images=10, models=("tiny-a",))
    results = tmp_path / "results"
    common = ["--db", str(store)]
    assert main(["probe", "--plan", str(plan), "--results-dir", str(results), *common]) == 0
    out = capsys.readouterr().out
    assert "launched 1 run(s) with the local executor" in out

    assert wait_for(lambda: {r.state for r in scan_runs(results)} == {"done"}, 120)
    runs = scan_runs(results)
    shard_shas = []
    for run in runs:
        result = json.loads((run.run_dir / rundir.RESULT).read_text())
        assert result["n_images"] == 10
        shard_shas += [s["sha256"] for s in result["shards"]]
    assert len(shard_shas) == 3  # 10 images in chunks of 4

    assert main(["runs", "list", "--results-dir", str(results), *common]) == 0
    listing = capsys.readouterr()
    assert "ingested 1 finished run(s)" in listing.err
    assert all(f"{r.run_id}" in listing.out for r in runs)

    # Following again (CLI list, sync) and even forgetting the registry's flag ingests nothing new.
    assert main(["runs", "sync", "--results-dir", str(results), *common]) == 0
    assert "ingested 0 run(s)" in capsys.readouterr().out
    con = duckdb.connect(str(store))
    con.execute("UPDATE probe_runs SET ingested = false")
    con.close()
    assert main(["runs", "sync", "--results-dir", str(results), *common]) == 0
    # what a second, concurrent follower sees: the shards are in, so it reports nothing as its own
    assert "ingested 0 run(s)" in capsys.readouterr().out

    for sha in shard_shas:
        assert _count(store, "SELECT count(*) FROM sources WHERE sha256 = ?", [sha]) == 1
    n = _count(
        store, "SELECT count(*) FROM predictions WHERE model = 'tiny-a' AND dataset = 'imagenet'"
    )
    assert n == 10
    assert _count(store, "SELECT count(*) FROM probe_runs WHERE state = 'done' AND ingested") == 1

    # Launching the same plan again starts nothing: the run is done.
    assert main(["probe", "--plan", str(plan), "--results-dir", str(results), *common]) == 0
    assert "launched 0 run(s)" in capsys.readouterr().out
