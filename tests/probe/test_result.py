"""`result.json` through one typed `RunResult`: what the engine writes is what every reader gets,
and a file with an unknown, missing or mistyped key is a one-line error naming the file (for
ingest and in `lottery runs`), never a KeyError or a run taken as done with made-up values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lottery_tui.errors import InputError
from lottery_tui.probe.ingest import read_run_dir
from lottery_tui.probe.result import DerivedScore, RunResult, ShardEntry


def _result(**changes) -> dict:
    data = {
        "run_id": "m--imagenet--0123abcd",
        "model": "m",
        "dataset": "imagenet",
        "n_images": 12,
        "n_skipped": 1,
        "top1": 25.0,
        "top5": 50.0,
        "images_per_s": 40.5,
        "config": {"arch": "resnet18", "framework": "torchvision"},
        "shards": [{"name": "predictions-imagenet-00000.parquet", "sha256": "ab", "rows": 12}],
        "sweep": ["m--imagenet--0123abcd", "n--imagenet--4567ef01"],
        "derived": {
            "imagenet-r-clean": {
                "n_images": 2,
                "top1": 50.0,
                "top5": None,
                "shards": [{"name": "derived/x.parquet", "sha256": "cd", "rows": 2}],
            }
        },
    }
    data.update(changes)
    return data


def _write(run_dir: Path, data: dict) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "result.json").write_text(json.dumps(data))
    return run_dir / "result.json"


def test_a_result_reads_typed_and_writes_back_the_same(tmp_path: Path) -> None:
    _write(tmp_path, _result())
    result = RunResult.read(tmp_path)
    assert result.n_images == 12 and result.top1 == 25.0 and result.config["arch"] == "resnet18"
    assert result.shards == [ShardEntry("predictions-imagenet-00000.parquet", "ab", 12)]
    assert result.derived["imagenet-r-clean"] == DerivedScore(
        2, 50.0, None, [ShardEntry("derived/x.parquet", "cd", 2)]
    )
    (tmp_path / "again").mkdir()
    result.write(tmp_path / "again")
    assert json.loads((tmp_path / "again" / "result.json").read_text()) == _result()
    assert RunResult.read(tmp_path / "again") == result


def test_no_result_yet_is_none(tmp_path: Path) -> None:
    assert RunResult.read(tmp_path) is None


def test_sweep_and_derived_may_be_absent(tmp_path: Path) -> None:
    """Runs written before a sweep or derived datasets existed still read."""
    data = _result()
    del data["sweep"], data["derived"]
    _write(tmp_path, data)
    result = RunResult.read(tmp_path)
    assert result.sweep is None and result.derived == {}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_result(extra=1), "unknown key(s) in result: extra"),
        ({k: v for k, v in _result().items() if k != "config"}, "missing key(s) in result: config"),
        (_result(n_images="12"), "n_images has the wrong type (str)"),
        (_result(top1=True), "top1 has the wrong type (bool)"),
        (_result(shards={"a": 1}), "shards has the wrong type (dict)"),
        (_result(shards=[{"name": "a", "sha256": "b"}]), "missing key(s) in shards[0]: rows"),
        (
            _result(derived={"imagenet-a-clean": {"n_images": 1, "top1": 1.0, "top5": 1.0}}),
            "missing key(s) in derived.imagenet-a-clean: shards",
        ),
        ([1, 2], "result is not a JSON object"),
    ],
)
def test_a_malformed_result_is_one_line_naming_the_file(
    tmp_path: Path, data: object, message: str
) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(InputError) as caught:
        RunResult.read(tmp_path)
    text = str(caught.value)
    assert message in text and str(path) in text and "\n" not in text


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "result.json").write_text('{"run_id": "x",\n  oops}')
    with pytest.raises(InputError) as caught:
        RunResult.read(tmp_path)
    assert "not valid JSON" in str(caught.value) and "line 2" in str(caught.value)


def test_ingest_refuses_a_malformed_result_in_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path, _result(unexpected="x"))
    with pytest.raises(InputError, match="unknown key") as caught:
        read_run_dir(tmp_path)
    assert str(path) in str(caught.value)


def test_the_run_status_shows_a_malformed_result_as_failed(tmp_path: Path) -> None:
    from lottery_tui.runs.status import read_status

    _write(tmp_path, {k: v for k, v in _result().items() if k != "shards"})
    status = read_status(tmp_path)
    assert status.state == "failed" and "missing key(s) in result: shards" in status.message


@pytest.mark.torch
def test_the_engine_returns_what_result_json_reads(
    resnet18, val_folder, tmp_path: Path, make_spec
) -> None:
    import torch

    from lottery_tui.probe import engine

    torch.save(resnet18.state_dict(), tmp_path / "r18.pth")
    spec = make_spec(checkpoint=str(tmp_path / "r18.pth"), dataset_path=str(val_folder))
    result = engine.run_job(spec, tmp_path / "run")
    assert isinstance(result, RunResult) and result == RunResult.read(tmp_path / "run")
    assert result.run_id == spec.run_id and result.n_images == sum(s.rows for s in result.shards)
