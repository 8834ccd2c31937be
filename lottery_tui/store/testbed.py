"""The ImageNet testbed (Taori et al., NeurIPS 2020) as source `imagenet-testbed`.

Its `robustness_top1s.csv` is a wide table (model + 213 evaluation settings, top-1 in percent)
shipped byte-for-byte in `data/imagenet-testbed/`. The settings that are a canonical dataset go
in through the wide importer with `TESTBED_COLUMNS`; ImageNet-C becomes one aggregate
(`IMAGENET_C_*`). Why these encodings: docs/store.md, "The ImageNet testbed".
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb

from lottery_tui.store.csvfile import parse_csv, parse_float
from lottery_tui.store.datasets import known_dataset_ids
from lottery_tui.store.long_import import LongFile, LongRow, write_long
from lottery_tui.store.wide_import import check_wide, to_long

TESTBED_SOURCE = "imagenet-testbed"
TESTBED_FILE = Path("imagenet-testbed") / "robustness_top1s.csv"
TESTBED_UPSTREAM = (
    "modestyachts/imagenet-testbed robustness_top1s.csv "
    "@ 0170eec658d664289d9f61de8f90f967f49abca0 (MIT)"
)

# Testbed setting -> canonical dataset. ImageNet-V2 comes in its `-format-val` encoding: the
# images as the public ImageNetV2 release ships them (what users and timm evaluate).
TESTBED_COLUMNS: dict[str, str] = {
    "val": "imagenet",
    "imagenetv2-matched-frequency-format-val": "imagenetv2-matched-frequency",
    "imagenetv2-threshold-0.7-format-val": "imagenetv2-threshold-0.7",
    "imagenetv2-top-images-format-val": "imagenetv2-top-images",
    "imagenet-sketch": "imagenet-sketch",
    "imagenet-r": "imagenet-r",
    "imagenet-a": "imagenet-a",
    "val-on-imagenet-r-classes": "imagenet-r-clean",
    "val-on-imagenet-a-classes": "imagenet-a-clean",
    "objectnet-1.0-beta": "objectnet",
    "val-on-objectnet-classes": "objectnet-clean",
}

# ImageNet-C as one number: mean top-1 over the 15 benchmark corruptions of Hendrycks &
# Dietterich (2019) x severities 1-5, on the released JPEG files (`_on-disk`; the `_in-memory`
# re-computation lacks glass_blur). A model gets it only with all 75 cells. Not mCE (which
# divides each corruption's error by AlexNet's).
IMAGENET_C = "imagenet-c"
IMAGENET_C_CORRUPTIONS = (
    "gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur",
    "motion_blur", "zoom_blur", "snow", "frost", "fog", "brightness", "contrast",
    "elastic_transform", "pixelate", "jpeg_compression",
)  # fmt: skip
IMAGENET_C_SEVERITIES = (1, 2, 3, 4, 5)


def imagenet_c_columns() -> list[str]:
    return [
        f"imagenet-c.{corruption}.{severity}_on-disk"
        for corruption in IMAGENET_C_CORRUPTIONS
        for severity in IMAGENET_C_SEVERITIES
    ]


def parse_testbed(path: Path, known: list[str]) -> LongFile:
    """The mapped settings' cells and the ImageNet-C aggregate, as long rows in percent."""
    rows = parse_csv(path)
    wide = check_wide(rows, TESTBED_COLUMNS, skip_unmapped=True, scale="percent")
    long = to_long(wide, known)
    index = [rows.column_index(column) for column in imagenet_c_columns()]
    extra: list[LongRow] = []
    for (line, model), (_, fields) in zip(wide.models, rows.rows, strict=True):
        cells = [fields[i] for i in index]
        if all(cell.strip() for cell in cells):
            values = [parse_float(fields[i], path, line, rows.header[i]) for i in index]
            extra.append(LongRow(line, model, IMAGENET_C, sum(values) / len(values), None, None))
    config = {**long.config, IMAGENET_C: "mean of 15 corruptions x 5 severities, on-disk"}
    return LongFile(path, long.sha256, long.rows + extra, long.options, config)


def load_testbed(con: duckdb.DuckDBPyConnection, data: Path) -> None:
    parsed = parse_testbed(data / TESTBED_FILE, known_dataset_ids(con))
    parsed.config["upstream"] = TESTBED_UPSTREAM
    stored = replace(parsed, path=Path(data.name) / TESTBED_FILE)
    write_long(con, stored, source_name=TESTBED_SOURCE, kind="seed")
