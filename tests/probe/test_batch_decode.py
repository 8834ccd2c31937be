"""The opt-in nvjpeg decoder, exercised on the CPU (decode_jpeg without a GPU): same pixels as the
PIL path within a small tolerance, the same top-1 for nearly every image, PIL fallbacks noted,
and the decoder recorded with the run and in its id."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from lottery_tui.errors import InputError
from lottery_tui.probe import engine
from lottery_tui.probe.batch_decode import RawFiles, decode_batch, jpeg_components
from lottery_tui.probe.pipelines import preprocessing_for
from lottery_tui.probe.preprocess import decode_rgb, to_uint8_tensor
from lottery_tui.runs.launch import run_id_for
from tests.probe.conftest import SIZE, read_predictions, val_names, write_image


def _jpeg_bytes(mode: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (20, 12), (200, 30, 90)).convert(mode).save(buf, format="JPEG")
    return buf.getvalue()


def test_jpeg_components_reads_the_frame_header():
    assert jpeg_components(_jpeg_bytes("RGB")) == 3
    assert jpeg_components(_jpeg_bytes("L")) == 1
    assert jpeg_components(_jpeg_bytes("CMYK")) == 4
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, format="PNG")
    assert jpeg_components(buf.getvalue()) is None
    assert jpeg_components(b"\xff\xd8\xff") is None  # header cut short
    assert jpeg_components(b"not an image at all") is None


def _photos(root: Path, n: int, seed: int) -> list[Path]:
    """RGB JPEGs of varied sizes and aspect ratios (both resize directions, odd sides)."""
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        width, height = (int(v) for v in rng.integers(33, 260, 2))
        path = root / f"{i}.JPEG"
        write_image(path, rng, size=(width, height))
        paths.append(path)
    return paths


@pytest.mark.parametrize("framework", ["torchvision", "dino", "simclr"])
def test_cpu_batched_pixels_match_pil_within_one_level(framework, tmp_path):
    paths = _photos(tmp_path, 24, seed=5)
    prep = preprocessing_for(framework, SIZE, "nvjpeg")
    files = RawFiles(paths, prep)
    items = [files[i] for i in range(len(paths))]
    assert all(item.image is None for item in items)  # every one goes to the batched decoder
    batch, index, errors, notes = decode_batch(items, paths, prep, torch.device("cpu"))
    reference = torch.stack([to_uint8_tensor(decode_rgb(p)[0], prep) for p in paths])
    assert batch.dtype == torch.uint8 and batch.shape == reference.shape
    assert index == list(range(len(paths))) and not any(errors) and not any(notes)
    diff = (batch.int() - reference.int()).abs()
    # Measured: at most 1 grey level apart, mean under 0.05 (rounding of the antialiased resize).
    assert diff.max().item() <= 2
    assert diff.float().mean().item() < 0.25


def test_other_images_fall_back_to_pil_with_a_note(tmp_path):
    rng = np.random.default_rng(8)
    names = ["rgb.JPEG", "grey.JPEG", "cmyk.JPEG", "png.JPEG", "corrupt.JPEG", "truncated.JPEG"]
    paths = [tmp_path / name for name in names]
    write_image(paths[0], rng)
    write_image(paths[1], rng, mode="L")
    write_image(paths[2], rng, mode="CMYK")
    Image.open(paths[0]).save(paths[3], format="PNG")  # a PNG under a JPEG name, as in ImageNet
    paths[4].write_bytes(b"\xff\xd8\xff garbage")
    whole = paths[0].read_bytes()
    # A valid header but most of the scan missing: the batched decoder rejects it.
    paths[5].write_bytes(whole[: len(whole) // 2])
    prep = preprocessing_for("torchvision", SIZE, "nvjpeg")
    files = RawFiles(paths, prep)
    batch, _, errors, notes = decode_batch(
        [files[i] for i in range(len(paths))], paths, prep, torch.device("cpu")
    )
    assert batch.shape == (len(paths), 3, SIZE, SIZE)
    assert notes[0] == "" and errors[0] == ""
    assert "1 channel" in notes[1] and "4 channel" in notes[2] and "not a JPEG" in notes[3]
    assert errors[4].startswith("undecodable image")
    assert notes[5].startswith("decoded by PIL (batched decoder failed)") and errors[5] == ""
    for j in (1, 2, 3):  # the fallback gives exactly the PIL path's pixels
        assert torch.equal(batch[j], to_uint8_tensor(decode_rgb(paths[j])[0], prep))


def test_nvjpeg_run_agrees_with_pil_run_and_records_the_decoder(resnet18, tmp_path, make_spec):
    torch.save(resnet18.state_dict(), tmp_path / "r18.pth")
    rng = np.random.default_rng(21)
    root = tmp_path / "val"
    names = val_names(40)
    for i, name in enumerate(names):
        width, height = (int(v) for v in rng.integers(40, 120, 2))
        write_image(root / name, rng, mode="CMYK" if i == 7 else "RGB", size=(width, height))
    results, rows = {}, {}
    for decoder in ("pil", "nvjpeg"):
        spec = make_spec(
            checkpoint=str(tmp_path / "r18.pth"),
            dataset_path=str(root),
            decoder=decoder,
            chunk_size=16,
            batch_size=8,
        )
        results[decoder] = engine.run_job(spec, tmp_path / decoder)
        rows[decoder] = read_predictions(tmp_path / decoder)
    agree = np.mean([rows["pil"][n]["pred"] == rows["nvjpeg"][n]["pred"] for n in names])
    assert agree >= 0.95  # random weights: near-ties can flip on a one-level pixel change
    config = results["nvjpeg"].config
    assert config["decoder"] == "nvjpeg" and results["pil"].config["decoder"] == "pil"
    assert "decode_jpeg" in config["preprocessing"]["decoder"]
    assert config["preprocessing"] != results["pil"].config["preprocessing"]
    assert [f["image_id"] for f in config["fallback_decoded"]] == [names[7]]
    assert results["pil"].config["fallback_decoded"] == []
    assert config["feature_cache"] != results["pil"].config["feature_cache"]


def test_decoder_is_validated_and_changes_the_run_id(make_spec):
    with pytest.raises(InputError, match="unknown decoder 'turbo'"):
        make_spec(decoder="turbo")
    pil, nvjpeg = make_spec(), make_spec(decoder="nvjpeg")
    assert run_id_for(pil) != run_id_for(nvjpeg)
    # The default leaves run ids as they were before the decoder (and head solver) choices.
    import hashlib
    import json
    from dataclasses import asdict

    identity = {
        k: v
        for k, v in asdict(pil).items()
        if k not in ("run_id", "device", "batch_size", "num_workers", "decoder", "head_solver")
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:8]
    assert run_id_for(pil).endswith(digest)


def _plan_text(decoder_line: str) -> str:
    return "\n".join(
        [
            "[defaults]",
            'device = "cpu"',
            decoder_line,
            "[[models]]",
            'name = "m"',
            'framework = "supervised"',
            'checkpoint = "m.pth"',
            'head = "builtin"',
            "[[datasets]]",
            'id = "imagenet"',
            'path = "val"',
            "",
        ]
    )


def test_plan_decoder_key_reaches_the_job_spec(tmp_path):
    from lottery_tui.runs.launch import build_spec
    from lottery_tui.runs.plan import PlanError, parse_plan

    specs = {}
    for decoder in ("pil", "nvjpeg"):
        plan = parse_plan(_plan_text(f'decoder = "{decoder}"'), tmp_path / "plan.toml")
        model, dataset = next(iter(plan.pairs()))
        specs[decoder] = build_spec(plan, model, dataset, tmp_path / "results", "cpu")
    assert specs["pil"].decoder == "pil" and specs["nvjpeg"].decoder == "nvjpeg"
    assert specs["pil"].run_id != specs["nvjpeg"].run_id
    plan = parse_plan(_plan_text(""), tmp_path / "plan.toml")  # not given: the reference
    model, dataset = next(iter(plan.pairs()))
    unset = build_spec(plan, model, dataset, tmp_path / "results", "cpu")
    assert unset.decoder == "pil" and unset.run_id == specs["pil"].run_id
    with pytest.raises(PlanError, match="decoder"):
        parse_plan(_plan_text('decoder = "turbo"'), tmp_path / "plan.toml")


def test_cli_decoder_flag_reaches_the_job_spec(tmp_path):
    from lottery_tui.cli.main import build_parser
    from lottery_tui.cli.probe import one_model_plan
    from lottery_tui.runs.launch import build_spec

    base = ["probe", "--model", "m", "--framework", "torchvision", "--checkpoint", "c.pth"]
    base += ["--dataset", f"imagenet={tmp_path}", "--results-dir", str(tmp_path / "runs")]
    base += ["--device", "cpu"]
    parser = build_parser()

    def spec(argv):
        plan = one_model_plan(parser.parse_args(argv))
        return build_spec(plan, plan.models[0], plan.datasets[0], tmp_path / "runs", "cpu")

    default, chosen = spec(base), spec([*base, "--decoder", "nvjpeg"])
    assert default.decoder == "pil" and chosen.decoder == "nvjpeg"
    with pytest.raises(SystemExit):
        parser.parse_args([*base, "--decoder", "turbo"])
