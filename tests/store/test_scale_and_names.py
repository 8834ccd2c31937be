"""Scale detection and the metadata derived from timm-style model names."""

from __future__ import annotations

from pathlib import Path

import pytest

from lottery_tui.errors import InputError
from lottery_tui.store.models import describe
from lottery_tui.store.scale import Accuracy, detect_scale

FILE = Path("acc.csv")


def values(*numbers: float) -> list[Accuracy]:
    return [Accuracy(v, line, "top1") for line, v in enumerate(numbers, start=2)]


def test_any_value_above_one_means_percent() -> None:
    assert detect_scale(values(0.48, 76.1, 88.6), FILE) == 1  # ImageNet-A really goes below 1 %


def test_values_up_to_one_are_fractions_when_one_is_substantial() -> None:
    assert detect_scale(values(0.05, 0.761, 1.0), FILE) == 100


def test_all_tiny_values_are_ambiguous_unless_forced() -> None:
    with pytest.raises(InputError, match="ambiguous scale"):
        detect_scale(values(0.01, 0.09), FILE)
    assert detect_scale(values(0.01, 0.09), FILE, "percent") == 1
    assert detect_scale(values(0.01, 0.09), FILE, "fraction") == 100


def test_forced_fraction_still_checks_the_range() -> None:
    with pytest.raises(InputError, match="line 3, column top1: accuracy 75 is above 1"):
        detect_scale(values(0.5, 75), FILE, "fraction")


@pytest.mark.parametrize(
    ("name", "architecture", "family"),
    [
        ("resnet50d.ra2_in1k", "resnet50d", "resnet"),
        ("tf_efficientnet_b0.ns_jft_in1k", "tf_efficientnet_b0", "efficientnet"),
        ("mobilenetv3_large_100.ra_in1k", "mobilenetv3_large_100", "mobilenet"),
        ("res2net50_26w_4s.in1k", "res2net50_26w_4s", "res2net"),
        ("vit_base_patch16_224.mae", "vit_base_patch16_224", "vit"),
        ("resmlp_24_224.fb_dino", "resmlp_24_224", "resmlp"),
        ("vgg11", "vgg11", "vgg"),
    ],
)
def test_metadata_from_names(name, architecture, family) -> None:
    info = describe(name)
    assert (info.architecture, info.family) == (architecture, family)
    assert info.base_name == name
    # the tags (framework included) come when the model is added: tests/store/test_pretraining.py
    assert info.framework is None


def test_size_suffixed_names_keep_the_timm_name_as_base() -> None:
    info = describe("convnext_atto.d2_in1k@288", "convnext_atto.d2_in1k", img_size=288)
    assert (info.base_name, info.architecture, info.pretrained_tag, info.img_size) == (
        "convnext_atto.d2_in1k", "convnext_atto", "d2_in1k", 288
    )  # fmt: skip
