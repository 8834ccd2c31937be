"""Rebuild `data/` from the reference copies in `../shared/data` (run by hand, once).

Timm result CSVs, the ImageNet testbed's CSV (with its licence), class lists and `real.json` are
copied byte-for-byte (so importers are exercised on the real files and their checksums match
upstream). The 15 models' per-image predictions and the val labels become Parquet: image_idx
int32 (file number - 1, the index into real.json) and pred/label int16, sorted by image,
zstd-compressed: 27 MB of CSV become well under 1 MB.

Usage: python data/convert_shared.py [SHARED_DATA_DIR]
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
COPIED = {
    "timm-results": ["results-*.csv"],
    "imagenet-testbed": ["robustness_top1s.csv", "LICENSE"],
    "imagenet": [
        "imagenet_*synsets.txt",
        "imagenet_*indices.txt",
        "imagenet_class_names.tsv",
        "real.json",
    ],
}
VAL_NAME = re.compile(r"ILSVRC2012_val_(\d{8})\.JPEG")


def image_index(names: list[str]) -> pa.Array:
    indices = []
    for name in names:
        match = VAL_NAME.fullmatch(name)
        if match is None:
            raise ValueError(f"not an ImageNet val file name: {name!r}")
        indices.append(int(match.group(1)) - 1)
    return pa.array(indices, pa.int32())


def write_parquet(table: pa.Table, path: Path) -> None:
    """Delta-encode the sorted index and shared-prefix names; dictionary-encode the classes."""
    encodings = {"image_idx": "DELTA_BINARY_PACKED", "image_id": "DELTA_BYTE_ARRAY"}
    pq.write_table(
        table.sort_by("image_idx"),
        path,
        compression="zstd",
        use_dictionary=[name for name in table.column_names if name not in encodings],
        column_encoding={k: v for k, v in encodings.items() if k in table.column_names},
    )


def main(shared: Path) -> None:
    for folder, patterns in COPIED.items():
        (HERE / folder).mkdir(exist_ok=True)
        for pattern in patterns:
            for src in sorted((shared / folder).glob(pattern)):
                shutil.copyfile(src, HERE / folder / src.name)

    labels = pacsv.read_csv(shared / "imagenet" / "imagenet_val_labels.csv")
    names = labels["file_name"].to_pylist()
    write_parquet(
        pa.table(
            {
                "image_idx": image_index(names),
                "image_id": pa.array(names, pa.string()),
                "label": labels["label"].cast(pa.int16()),
            }
        ),
        HERE / "imagenet" / "val_labels.parquet",
    )

    out = HERE / "imagenet-val-predictions"
    out.mkdir(exist_ok=True)
    for src in sorted((shared / "imagenet-val-predictions").glob("topk_ids_*.csv")):
        model = src.stem.removeprefix("topk_ids_")
        table = pacsv.read_csv(
            src,
            read_options=pacsv.ReadOptions(autogenerate_column_names=True),
        )
        write_parquet(
            pa.table(
                {
                    "image_idx": image_index(table.column(0).to_pylist()),
                    "pred": table.column(1).cast(pa.int16()),
                }
            ),
            out / f"{model}.parquet",
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent.parent / "shared" / "data")
