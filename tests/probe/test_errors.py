"""Every failure is one clear line, raised before compute where possible, and leaves no result."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import torch

from lottery_tui.errors import InputError, LotteryError
from lottery_tui.probe import engine, prepared
from lottery_tui.probe.contract import JobSpec
from lottery_tui.probe.files import DiskFullError


@pytest.fixture
def r18_state(resnet18) -> dict[str, torch.Tensor]:
    return dict(resnet18.state_dict())


def run_expecting(spec: JobSpec, run_dir: Path, error: type[Exception], match: str) -> str:
    with pytest.raises(error, match=match) as info:
        engine.run_job(spec, run_dir)
    assert not (run_dir / "result.json").exists()
    first_line = (run_dir / "error.txt").read_text().splitlines()[0]
    assert first_line == str(info.value).splitlines()[0]
    assert "\n" not in str(info.value)
    return first_line


def test_missing_checkpoint(val_folder, tmp_path, make_spec):
    spec = make_spec(checkpoint=str(tmp_path / "nope.pth"), dataset_path=str(val_folder))
    run_expecting(spec, tmp_path / "run", InputError, "nope.pth: checkpoint not found")


def test_truncated_checkpoint(r18_state, val_folder, tmp_path, make_spec):
    path = tmp_path / "cut.pth"
    torch.save(r18_state, path)
    path.write_bytes(path.read_bytes()[:50_000])
    spec = make_spec(checkpoint=str(path), dataset_path=str(val_folder))
    run_expecting(spec, tmp_path / "run", InputError, "corrupt or truncated checkpoint")


def test_byol_jax_pickle_needs_conversion(val_folder, tmp_path, make_spec):
    path = tmp_path / "pretrain_res50x1.pkl"
    path.write_bytes(b"\x80\x04")
    spec = make_spec(framework="byol", checkpoint=str(path), dataset_path=str(val_folder))
    run_expecting(spec, tmp_path / "run", InputError, "convert it")


def test_wrong_architecture(r18_state, val_folder, tmp_path, make_spec):
    torch.save(r18_state, tmp_path / "r18.pth")
    spec = make_spec(
        checkpoint=str(tmp_path / "r18.pth"), dataset_path=str(val_folder), arch="resnet50"
    )
    run_expecting(
        spec, tmp_path / "run", LotteryError, "holds a resnet18, the run asks for resnet50"
    )


def test_missing_and_unexpected_keys_are_listed(r18_state, val_folder, tmp_path, make_spec):
    state = dict(r18_state)
    del state["layer4.1.bn2.weight"]
    state["layer4.1.extra.weight"] = torch.zeros(3)
    torch.save(state, tmp_path / "bad.pth")
    spec = make_spec(checkpoint=str(tmp_path / "bad.pth"), dataset_path=str(val_folder))
    line = run_expecting(spec, tmp_path / "run", InputError, "missing keys")
    assert "missing keys [layer4.1.bn2.weight]" in line
    assert "unexpected keys [layer4.1.extra.weight]" in line


def test_wrong_shape_is_listed(r18_state, val_folder, tmp_path, make_spec):
    state = dict(r18_state)
    state["layer1.0.bn1.running_mean"] = torch.zeros(65)
    torch.save(state, tmp_path / "bad.pth")
    spec = make_spec(checkpoint=str(tmp_path / "bad.pth"), dataset_path=str(val_folder))
    run_expecting(spec, tmp_path / "run", InputError, r"wrong shapes \[layer1.0.bn1.running_mean")


def test_stray_key_outside_the_backbone_prefix(r18_state, val_folder, tmp_path, make_spec):
    state = {f"module.encoder_q.{k}": v for k, v in r18_state.items() if not k.startswith("fc.")}
    state["module.surprise.weight"] = torch.zeros(2)
    torch.save({"state_dict": state}, tmp_path / "moco.pth")
    spec = make_spec(
        framework="moco-v2",
        checkpoint=str(tmp_path / "moco.pth"),
        dataset_path=str(val_folder),
        head="linear",
        head_path=str(tmp_path / "x"),
    )
    run_expecting(spec, tmp_path / "run", InputError, r"unexpected keys \[module.surprise.weight\]")


def test_no_layout_found_names_the_expected_one(r18_state, val_folder, tmp_path, make_spec):
    torch.save({"weights": r18_state}, tmp_path / "odd.pth")
    spec = make_spec(
        framework="simsiam",
        checkpoint=str(tmp_path / "odd.pth"),
        dataset_path=str(val_folder),
        head="linear",
        head_path=str(tmp_path / "x"),
    )
    run_expecting(spec, tmp_path / "run", InputError, r"no simsiam checkpoint layout found")


def test_ssl_checkpoint_without_classifier_needs_a_head(r18_state, val_folder, tmp_path, make_spec):
    swav = {f"module.{k}": v for k, v in r18_state.items() if not k.startswith("fc.")}
    swav["module.prototypes.weight"] = torch.zeros(3000, 128)
    torch.save(swav, tmp_path / "swav.pth")
    spec = make_spec(
        framework="swav", checkpoint=str(tmp_path / "swav.pth"), dataset_path=str(val_folder)
    )
    run_expecting(spec, tmp_path / "run", LotteryError, "has no ImageNet classifier")


@pytest.mark.parametrize(
    ("head", "match"),
    [
        ({"network": {"fc.weight": torch.zeros(8192, 512)}}, "no linear classifier"),
        (
            {
                "state_dict": {
                    "module.linear.weight": torch.zeros(3000, 512),
                    "module.linear.bias": torch.zeros(3000),
                }
            },
            "not a 1000-class",
        ),
        (
            {
                "state_dict": {
                    "module.fc.weight": torch.zeros(1000, 2048),
                    "module.fc.bias": torch.zeros(1000),
                }
            },
            "reads 2048-d features",
        ),
    ],
    ids=["bag-of-words", "prototypes", "other-architecture"],
)
def test_heads_that_are_not_classifiers_for_this_backbone(
    r18_state, val_folder, tmp_path, make_spec, head, match
):
    torch.save(r18_state, tmp_path / "r18.pth")
    torch.save(head, tmp_path / "head.pth")
    spec = make_spec(
        checkpoint=str(tmp_path / "r18.pth"),
        dataset_path=str(val_folder),
        head="linear",
        head_path=str(tmp_path / "head.pth"),
    )
    run_expecting(spec, tmp_path / "run", InputError, match)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")
def test_cuda_without_a_gpu(val_folder, tmp_path, make_spec):
    spec = make_spec(
        checkpoint=str(tmp_path / "unused.pth"), dataset_path=str(val_folder), device="cuda"
    )
    run_expecting(spec, tmp_path / "run", prepared.DeviceError, "no CUDA GPU")


def test_dataset_problem_is_reported_before_the_checkpoint_is_read(
    tmp_path, make_spec, monkeypatch
):
    monkeypatch.setattr(prepared, "read_checkpoint", lambda p: pytest.fail("read the checkpoint"))
    spec = make_spec(checkpoint=str(tmp_path / "x.pth"), dataset_path=str(tmp_path / "missing"))
    run_expecting(spec, tmp_path / "run", InputError, "dataset folder not found")


def test_disk_full_leaves_no_partial_shard(r18_state, val_folder, tmp_path, make_spec, monkeypatch):
    import pyarrow.parquet as pq

    torch.save(r18_state, tmp_path / "r18.pth")

    def full(table, where, **kwargs):
        Path(where).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pq, "write_table", full)
    spec = make_spec(checkpoint=str(tmp_path / "r18.pth"), dataset_path=str(val_folder))
    run_expecting(spec, tmp_path / "run", DiskFullError, "disk full")
    assert [p for p in (tmp_path / "run" / "shards").rglob("*") if p.is_file()] == []


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"model": "m",\n "head": oops}', r"spec.json, line 2, column 10: not valid JSON"),
        ('{"model": "m", "colour": 1}', "unknown spec fields: colour"),
        ('{"model": "m"}', "incomplete spec"),
    ],
)
def test_bad_spec_json(tmp_path, text, match):
    (tmp_path / "spec.json").write_text(text)
    with pytest.raises(InputError, match=match):
        JobSpec.read(tmp_path)


def test_bad_spec_fails_the_job_process_with_error_txt(tmp_path):
    (tmp_path / "spec.json").write_text("{}")
    assert engine.run_sweep_process([tmp_path]) == 1
    assert "incomplete spec" in (tmp_path / "error.txt").read_text().splitlines()[0]


def test_job_entry_point_usage_and_spec_round_trip(tmp_path, make_spec, capsys):
    from lottery_tui.probe import job

    assert job.main([]) == 2
    assert "usage" in capsys.readouterr().err
    spec = make_spec(checkpoint="c.pth", dataset_path="/d", head="knn", head_path="/train")
    assert JobSpec.from_json(spec.to_json()) == spec
    with pytest.raises(InputError, match="head 'knn' needs a path"):
        make_spec(head="knn")


def test_validate_checkpoint_checks_keys_without_loading(r18_state, tmp_path):
    from lottery_tui.probe.checkpoints import validate_checkpoint

    torch.save(r18_state, tmp_path / "good.pth")
    assert validate_checkpoint(tmp_path / "good.pth", "torchvision").arch == "resnet18"
    with pytest.raises(InputError, match="holds a resnet18, not resnet50"):
        validate_checkpoint(tmp_path / "good.pth", "torchvision", "resnet50")
    state = dict(r18_state)
    state["layer3.0.bn1.weight"] = torch.zeros(7)
    torch.save(state, tmp_path / "bad.pth")
    with pytest.raises(InputError, match=r"wrong shapes \[layer3.0.bn1.weight \(7,\) vs \(256,\)"):
        validate_checkpoint(tmp_path / "bad.pth", "torchvision")


def test_a_folder_of_undecodable_files_fails(r18_state, tmp_path, make_spec):
    for name in ("ILSVRC2012_val_00000001.JPEG", "ILSVRC2012_val_00000002.JPEG"):
        (tmp_path / "val").mkdir(exist_ok=True)
        (tmp_path / "val" / name).write_bytes(b"garbage")
    torch.save(r18_state, tmp_path / "r18.pth")
    spec = make_spec(checkpoint=str(tmp_path / "r18.pth"), dataset_path=str(tmp_path / "val"))
    run_expecting(spec, tmp_path / "run", LotteryError, "no image could be decoded")
