"""`lottery report` fits 100 columns (issue 22): every line of the shipped report's Markdown, at
the default settings and with a reversed --pair (whose note opens with a model key), is at most
100 characters; prose wraps between words, so no number is cut."""

from __future__ import annotations

import re

import pytest

import lottery_tui
from lottery_tui.report.numbers import format_p
from lottery_tui.report.render import PROSE_WIDTH

SWIN = "swin_base_patch4_window7_224"


@pytest.fixture(scope="module")
def store(shipped_db):
    with lottery_tui.open(shipped_db) as opened:
        yield opened


@pytest.mark.parametrize("source", [None, "analysing-relations", "imagenet-testbed", "timm"])
def test_the_default_report_fits_100_columns(store, source) -> None:
    markdown = store.report(source=source).to_markdown()
    assert max(len(line) for line in markdown.splitlines()) <= PROSE_WIDTH == 100


def test_a_note_opening_with_a_model_key_is_wrapped_whole(store) -> None:
    report = store.report(source="analysing-relations", resamples=200, pairs=[("resnet50", SWIN)])
    lines = report.to_markdown().splitlines()
    assert max(len(line) for line in lines) <= 100
    keys = dict(re.findall(r"^- (#\d+|P\d+): (\S+)", "\n".join(lines), re.MULTILINE))
    key = {name: k for k, name in keys.items()}
    (gain,) = [g for g in report.data.marginal_gains if not g.adjacent]
    expected = (
        f"{key['resnet50']} vs {key[SWIN]}: the reference gain is negative: {SWIN} is "
        f"significantly better on imagenet (p adj. = {format_p(gain.p_adjusted)})."
    )
    assert len(expected) > 100  # the line the old rule took for a heading and left unwrapped
    start = next(i for i, line in enumerate(lines) if line.startswith(expected[:12]))
    assert " ".join(lines[start : start + 2]) == expected  # wrapped between words
    assert f"{format_p(gain.p_adjusted)})." in lines[start + 1]  # the p-value whole on one line
