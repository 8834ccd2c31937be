"""Framework, pretraining and protocol tags on a hand-checked list of names, and in the store."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest

from lottery_tui.cli.main import main
from lottery_tui.store.connection import connect
from lottery_tui.store.models import tags_current
from lottery_tui.store.paths import data_dir
from lottery_tui.store.pretraining import (
    PRETRAINING,
    PROTOCOLS,
    SSL_ARCHITECTURES,
    SSL_METHODS,
    Tags,
    tags,
)

TESTBED_CSV = Path("/work/shared/data/imagenet-testbed/robustness_top1s.csv")

# name, source, pretraining, protocol: each checked by hand against the model's paper or card.
HAND_CHECKED = [
    # ImageNet testbed (Taori et al. 2020): self-supervised rows
    ("resnet50_swav", "imagenet-testbed", "self-supervised", "linear-probe"),
    ("resnet50_simsiam", "imagenet-testbed", "self-supervised", "linear-probe"),
    ("resnet50_simclrv2_linear_probe_tf_port", "imagenet-testbed", "self-supervised",
     "linear-probe"),
    ("resnet152_3x_simclrv2_linear_probe_tf_port", "imagenet-testbed", "self-supervised",
     "linear-probe"),
    ("resnet50_simclrv2_finetuned_100pct_tf_port", "imagenet-testbed", "self-supervised",
     "fine-tuned"),
    ("resnet152_3x_simclrv2_finetuned_100pct_tf_port", "imagenet-testbed", "self-supervised",
     "fine-tuned"),
    # VTAB S4L: sup-* use every label (76.5 %, 74.1 %), semi-* 10 % of them
    ("resnet50-vtab-rotation", "imagenet-testbed", "supervised", "fine-tuned"),
    ("resnet50-vtab-exemplar", "imagenet-testbed", "supervised", "fine-tuned"),
    ("resnet50-vtab-semi-rotation", "imagenet-testbed", "semi-supervised", "fine-tuned"),
    ("resnet50-vtab-semi-exemplar", "imagenet-testbed", "semi-supervised", "fine-tuned"),
    ("resnet50-vtab", "imagenet-testbed", "supervised", "fine-tuned"),
    # semi- and weakly supervised, CLIP, BiT
    ("resnet50_ssl", "imagenet-testbed", "semi-supervised", "fine-tuned"),
    ("resnext101_32x16d_ssl", "imagenet-testbed", "semi-supervised", "fine-tuned"),
    ("resnet50_swsl", "imagenet-testbed", "weakly-supervised", "fine-tuned"),
    ("resnext101_32x8d_swsl", "imagenet-testbed", "weakly-supervised", "fine-tuned"),
    ("instagram-resnext101_32x48d", "imagenet-testbed", "weakly-supervised", "fine-tuned"),
    ("efficientnet-l2-noisystudent", "imagenet-testbed", "semi-supervised", "fine-tuned"),
    ("resnet50_clip_zeroshot", "imagenet-testbed", "image-text", "zero-shot"),
    ("vit_b_32_clip_zeroshot", "imagenet-testbed", "image-text", "zero-shot"),
    ("BiT-M-R50x1-nonfinetuned", "imagenet-testbed", "supervised", "unknown"),
    ("BiT-M-R152x4-ILSVRC2012", "imagenet-testbed", "supervised", "fine-tuned"),
    # supervised rows whose names only look special
    ("resnet18-rotation-worst10_30", "imagenet-testbed", "supervised", "fine-tuned"),
    ("resnet50-randomized_smoothing_noise_0.25", "imagenet-testbed", "supervised", "fine-tuned"),
    ("resnet50", "imagenet-testbed", "supervised", "fine-tuned"),
    ("identity32_one_nn", "imagenet-testbed", "unknown", "knn"),
    ("identity32_lstsq", "imagenet-testbed", "unknown", "linear-probe"),
    # timm: the pretrained tag after '.'
    ("resnet50.a1_in1k", "timm", "supervised", "fine-tuned"),
    ("resnet50.tv_in1k", "timm", "supervised", "fine-tuned"),
    ("convnext_tiny.in12k_ft_in1k", "timm", "supervised", "fine-tuned"),
    ("vit_small_patch16_224.augreg_in21k_ft_in1k", "timm", "supervised", "fine-tuned"),
    ("resnet50.fb_ssl_yfcc100m_ft_in1k", "timm", "semi-supervised", "fine-tuned"),
    ("resnet50.fb_swsl_ig1b_ft_in1k", "timm", "weakly-supervised", "fine-tuned"),
    ("resnext101_32x8d.fb_wsl_ig1b_ft_in1k", "timm", "weakly-supervised", "fine-tuned"),
    ("regnety_1280.swag_lc_in1k", "timm", "weakly-supervised", "linear-probe"),
    ("regnety_1280.swag_ft_in1k", "timm", "weakly-supervised", "fine-tuned"),
    ("tf_efficientnet_b0.ns_jft_in1k", "timm", "semi-supervised", "fine-tuned"),
    ("resmlp_24_224.fb_dino", "timm", "self-supervised", "unknown"),
    ("vit_base_patch16_224.mae", "timm", "self-supervised", "unknown"),
    ("convnextv2_tiny.fcmae_ft_in1k", "timm", "self-supervised", "fine-tuned"),
    ("beit_base_patch16_224.in22k_ft_in22k_in1k", "timm", "self-supervised", "fine-tuned"),
    ("eva02_base_patch14_448.mim_in22k_ft_in1k", "timm", "self-supervised", "fine-tuned"),
    ("vit_base_patch16_clip_224.laion2b_ft_in12k_in1k", "timm", "image-text", "fine-tuned"),
    ("vit_base_patch16_clip_224.openai_ft_in1k", "timm", "image-text", "fine-tuned"),
    ("eva_giant_patch14_336.clip_ft_in1k", "timm", "image-text", "fine-tuned"),
    # SEER (SwAV on Instagram images) and EVA-01 (masked CLIP-feature prediction) pretrain
    # without labels, then fine-tune on ImageNet (issue 18: both were tagged supervised)
    ("regnety_320.seer_ft_in1k", "timm", "self-supervised", "fine-tuned"),
    ("regnety_2560.seer_ft_in1k", "timm", "self-supervised", "fine-tuned"),
    ("eva_giant_patch14_560.m30m_ft_in22k_in1k", "timm", "self-supervised", "fine-tuned"),
    ("eva_large_patch14_196.in22k_ft_in22k_in1k", "timm", "self-supervised", "fine-tuned"),
    # shipped per-image models: timm's default (supervised) weights of 2022
    ("resnet50", "analysing-relations", "supervised", "fine-tuned"),
    ("vit_small_patch16_224", "analysing-relations", "supervised", "fine-tuned"),
    # a plain name from a user's source says nothing
    ("my_model", "user", "unknown", "unknown"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "source", "pretraining", "protocol"), HAND_CHECKED)
def test_hand_checked_names(name: str, source: str, pretraining: str, protocol: str) -> None:
    found = tags(name, source)
    assert (found.pretraining, found.protocol) == (pretraining, protocol)


@pytest.mark.parametrize(
    ("name", "source", "framework"),
    [
        ("resnet50_swav", "imagenet-testbed", "swav"),
        ("resnet50_simsiam", "imagenet-testbed", "simsiam"),
        ("resnet50_simclrv2_linear_probe_tf_port", "imagenet-testbed", "simclrv2"),
        ("resnet152_3x_simclrv2_finetuned_100pct_tf_port", "imagenet-testbed", "simclrv2"),
        ("resnet50-vtab-semi-rotation", "imagenet-testbed", "semi-supervised"),
        ("resnet50_clip_zeroshot", "imagenet-testbed", "image-text"),
        ("resnet50", "imagenet-testbed", "supervised"),
        ("identity32_one_nn", "imagenet-testbed", "unknown"),
        ("resmlp_24_224.fb_dino", "timm", "dino"),
        ("vit_base_patch16_224.mae", "timm", "mae"),
        ("regnety_640.seer_ft_in1k", "timm", "seer"),
        ("eva_giant_patch14_336.m30m_ft_in22k_in1k", "timm", "eva"),
        ("eva_giant_patch14_336.clip_ft_in1k", "timm", "image-text"),
        ("eva02_base_patch14_448.mim_in22k_ft_in1k", "timm", "mim"),
        ("beit_base_patch16_224.in22k_ft_in22k_in1k", "timm", "beit"),
        ("resnet50.fb_swsl_ig1b_ft_in1k", "timm", "weakly-supervised"),
        ("resnet50.a1_in1k", "timm", "supervised"),
        ("vgg11", "analysing-relations", "supervised"),
    ],
)
def test_the_framework_comes_from_the_same_rule(name: str, source: str, framework: str) -> None:
    assert tags(name, source).framework == framework


def shipped_names() -> list[tuple[str, str]]:
    """(name, source) of every model the shipped data brings."""
    names = [
        (path.stem, "analysing-relations")
        for path in (data_dir() / "imagenet-val-predictions").glob("*.parquet")
    ]
    for path in sorted((data_dir() / "timm-results").glob("*.csv")):
        with path.open() as handle:
            names += [(row["model"], "timm") for row in csv.DictReader(handle)]
    if TESTBED_CSV.exists():
        with TESTBED_CSV.open() as handle:
            names += [(row["model"], "imagenet-testbed") for row in csv.DictReader(handle)]
    return sorted(set(names))


def test_framework_and_pretraining_never_disagree() -> None:
    """One derivation: a self-supervised model's framework is its method, any other model's
    framework is its pretraining kind (issue 20: the testbed's SwAV was 'supervised')."""
    names = shipped_names()
    assert len(names) > 1500
    for name, source in names:
        found = tags(name, source)
        if found.pretraining == "self-supervised":
            assert found.framework in SSL_METHODS | SSL_ARCHITECTURES, name
        else:
            assert found.framework == found.pretraining, name


@pytest.mark.parametrize(
    ("framework", "head", "pretraining", "protocol"),
    [
        ("dino", "train", "self-supervised", "linear-probe-lbfgs"),
        ("dino", "train-adamw", "self-supervised", "linear-probe-adamw"),
        ("swav", "linear", "self-supervised", "linear-probe"),
        ("dino", "builtin", "self-supervised", "linear-probe"),
        ("mocov3", "knn", "self-supervised", "knn"),
        ("torchvision", "builtin", "supervised", "fine-tuned"),
        ("supervised", "knn", "supervised", "knn"),
        ("supervised", "train", "supervised", "linear-probe-lbfgs"),
    ],
)
def test_probe_runs_take_the_protocol_from_their_head(framework, head, pretraining, protocol):
    found = tags("my-probe", "probe", framework, head)
    assert found == Tags(framework, pretraining, protocol)


def test_every_testbed_name_gets_a_known_tag() -> None:
    if not TESTBED_CSV.exists():
        pytest.skip("the shared testbed file is not here")
    with TESTBED_CSV.open() as handle:
        names = [row["model"] for row in csv.DictReader(handle)]
    found = {name: tags(name, "imagenet-testbed") for name in names}
    assert all(t.pretraining in PRETRAINING and t.protocol in PROTOCOLS for t in found.values())
    ssl = sorted(n for n, t in found.items() if t.pretraining == "self-supervised")
    assert ssl == [
        "resnet152_3x_simclrv2_finetuned_100pct_tf_port",
        "resnet152_3x_simclrv2_linear_probe_tf_port",
        "resnet50_simclrv2_finetuned_100pct_tf_port",
        "resnet50_simclrv2_linear_probe_tf_port",
        "resnet50_simsiam",
        "resnet50_swav",
    ]


def test_results_view_ends_with_the_tags(shipped_db: Path) -> None:
    con = duckdb.connect(str(shipped_db), read_only=True)
    try:
        columns = [row[0] for row in con.execute("DESCRIBE results").fetchall()]
        assert columns == [
            "model", "dataset", "top1", "top5", "n_images", "source", "pretraining", "protocol",
        ]  # fmt: skip
        rows = con.execute(
            "SELECT model, pretraining, protocol FROM results WHERE dataset = 'imagenet' "
            "AND model IN ('resnet50', 'resnet50.fb_swsl_ig1b_ft_in1k', "
            "'vit_base_patch16_clip_224.openai_ft_in1k') "
            "AND source <> 'imagenet-testbed' ORDER BY model"  # the testbed's resnet50 is another
        ).fetchall()
        assert rows == [
            ("resnet50", "supervised", "fine-tuned"),
            ("resnet50.fb_swsl_ig1b_ft_in1k", "weakly-supervised", "fine-tuned"),
            ("vit_base_patch16_clip_224.openai_ft_in1k", "image-text", "fine-tuned"),
        ]
    finally:
        con.close()


def lottery_json(db: Path, capsys, command: str) -> object:
    code = main(["--db", str(db), *command.split(), "--format", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def test_models_report_and_compare_filter_on_the_tags(shipped_db: Path, capsys) -> None:
    rows = lottery_json(
        shipped_db, capsys, "models --pretraining weakly-supervised --protocol linear-probe"
    )
    assert [(r["model"], r["source"]) for r in rows] == [
        ("regnety_1280.swag_lc_in1k", "timm"),
        ("regnety_160.swag_lc_in1k", "timm"),
        ("regnety_320.swag_lc_in1k", "timm"),
    ]
    # the shipped testbed has linear probes too (SwAV, SimSiam, SimCLRv2): timm's alone here
    report = lottery_json(
        shipped_db, capsys, "report --source timm --protocol linear-probe --resamples 50"
    )
    assert report["selection"]["protocol"] == "linear-probe"
    assert {row["n_models"] for row in report["rank_agreement"]} == {3}
    assert {g["model"] for g in report["marginal_gains"]} <= {r["model"] for r in rows}
    ssl = lottery_json(shipped_db, capsys, "models --pretraining self-supervised")
    assert ssl and all(r["pretraining"] == "self-supervised" for r in ssl)
    compared = lottery_json(
        shipped_db,
        capsys,
        "compare regnety_320.swag_lc_in1k regnety_160.swag_lc_in1k --protocol linear-probe",
    )
    assert compared["model_a"] == "timm:regnety_320.swag_lc_in1k"


def test_compare_refuses_a_model_outside_the_tag_filter(shipped_db: Path, capsys) -> None:
    code = main(
        ["--db", str(shipped_db), "compare", "resnet50", "vgg11", "--protocol", "linear-probe"]
    )
    err = capsys.readouterr().err
    assert code != 0 and err.count("\n") == 1
    assert "no model 'resnet50' among --protocol 'linear-probe'" in err


def test_models_finds_the_testbed_ssl_models_by_framework(shipped_db: Path, capsys) -> None:
    rows = lottery_json(shipped_db, capsys, "models --framework swav")
    assert [(r["model"], r["source"], r["pretraining"], r["protocol"]) for r in rows] == [
        ("resnet50_swav", "imagenet-testbed", "self-supervised", "linear-probe")
    ]
    seer = lottery_json(shipped_db, capsys, "models --framework seer")
    assert sorted(r["model"] for r in seer) == [
        "regnety_1280.seer_ft_in1k", "regnety_2560.seer_ft_in1k", "regnety_320.seer_ft_in1k",
        "regnety_640.seer_ft_in1k",
    ]  # fmt: skip
    assert {r["pretraining"] for r in seer} == {"self-supervised"}


def test_a_store_tagged_by_older_rules_is_retagged_when_it_opens(
    shipped_db: Path, copy_store
) -> None:
    path = copy_store(shipped_db)
    old = duckdb.connect(str(path))
    try:
        assert tags_current(old)  # a new store is stamped with the rules that tagged it
        old.execute("DELETE FROM meta WHERE key = 'tag_rules'")  # as before the key existed
        old.execute(
            "UPDATE models SET framework = 'supervised', pretraining = 'supervised' "
            "WHERE name LIKE '%seer%' OR name = 'resnet50_swav'"
        )
    finally:
        old.close()
    con = connect(path, read_only=True)
    try:
        assert tags_current(con)
        assert con.execute(
            "SELECT DISTINCT framework, pretraining FROM models "
            "WHERE name LIKE '%seer%' OR name = 'resnet50_swav' ORDER BY 1"
        ).fetchall() == [("seer", "self-supervised"), ("swav", "self-supervised")]
        stored = con.execute(
            "SELECT base_name, source, framework, pretraining, protocol FROM models"
        ).fetchall()
        assert [tags(n, s) for n, s, *_ in stored] == [Tags(*t) for _, _, *t in stored]
    finally:
        con.close()
