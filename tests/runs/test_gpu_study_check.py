"""bench/gpu_study_check.py: its `--cpu-smoke` mode runs the study's shape end to end (12
frameworks, 3 preprocessing groups, a ViT, k-NN and a trained head, several chunks), and a rate
above its bare forwards is flagged, never printed. The GPU figures themselves are measured on a
device, not here."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.torch

BENCH = Path(__file__).resolve().parents[2] / "bench" / "gpu_study_check.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("gpu_study_check", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_rate_above_its_bare_forwards_is_flagged_not_printed(bench):
    assert bench.bounded("sweep", 104.0, 100.0) == 104.0  # within timing noise
    flag = bench.bounded("sweep", 180.0, 100.0)
    assert set(flag) == {"impossible"} and "180.0 img/s" in flag["impossible"]
    assert bench.bounded("sweep", None, 100.0) is None
    assert bench._minutes(167_500, flag) is None  # nothing extrapolated from a flag


def test_the_study_bank_plan_uses_the_real_train_set(bench):
    plan = bench.study_bank_plan("resnet50")
    sizes = {b.model: (b.train_images, b.dim, b.bytes) for b in plan.banks}
    assert sizes == {
        "dino-vits16": (1_281_167, 384, 1_281_167 * 384 * 2),
        "barlow-twins": (1_281_167, 2048, 1_281_167 * 2048 * 2),
    }


def test_cpu_smoke_runs_the_study_shape_end_to_end(bench, capsys):
    out = bench.main(["--cpu-smoke"])
    assert capsys.readouterr().out.strip().endswith("}")  # the JSON object is printed
    assert len(out["models"]) == 12 and out["preprocessing_groups"] == 3
    jpegs = out["jpegs"]
    assert jpegs["test_images"] == 32 and jpegs["chunks"] == 2
    assert jpegs["mean_within_imagenet_range"], jpegs
    sweep = out["sweep"]
    assert sweep["failed_runs"] == {} and sweep["runs_with_missing_images"] == {}
    assert {"train_features", "test"} <= set(sweep["phase_s"])
    assert sweep["k_nn_bank"] == {"dino-vits16": "device", "barlow-twins": "device"}
    for key in ("test_images_per_s", "train_images_per_s"):
        rate = sweep[key]  # a figure, or the flag (a loaded CPU's forwards are noisy)
        assert (isinstance(rate, float) and rate > 0) or set(rate) == {"impossible"}, rate
    assert out["study"]["k_nn_memory_plan"].startswith("k-NN memory plan: 2 of 2 bank(s) on cuda")
