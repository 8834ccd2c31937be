"""The public `predictions` view holds exactly the rows of a plain join of its tables, across
several image sets (its single-key image join must never pair an image with another set's)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from lottery_tui.cli.main import main

# The view's meaning, written as the plain two-key join it replaced.
REFERENCE = """
SELECT m.name AS model, s.dataset_id AS dataset, i.image_id,
       predicted_class(r.outcome) AS pred, r.outcome >= 0 AS correct, m.source
FROM prediction_rows r
JOIN prediction_sets s ON s.set_id = r.set_id
JOIN models m ON m.model_id = s.model_id
JOIN datasets d ON d.dataset_id = s.dataset_id
JOIN images i
  ON i.dataset_id = coalesce(d.shares_images_with, d.dataset_id) AND i.image_idx = r.image_idx
"""


def test_view_matches_the_plain_join_over_several_image_sets(
    shipped_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    store = copy_store(shipped_db)
    labels = tmp_path / "labels.csv"
    labels.write_text("image_id,label\n" + "".join(f"img{k:03d}.png,{k % 10}\n" for k in range(40)))
    for name in ("mini-a", "mini-b"):
        assert main(["--db", str(store), "import", "dataset", name, "--classes", "10",
                     "--labels", str(labels)]) == 0  # fmt: skip
    # Same image ids and image_idx values in both sets, different predictions.
    for name, shift in (("mini-a", 0), ("mini-b", 3)):
        preds = tmp_path / f"{name}.csv"
        preds.write_text(
            "image_id,pred\n" + "".join(f"img{k:03d}.png,{(k + shift) % 10}\n" for k in range(40))
        )
        command = ["import", "predictions", str(preds), "--model", "vgg11", "--dataset", name]
        assert main(["--db", str(store), *command, "--source", "analysing-relations"]) == 0
    capsys.readouterr()
    con = duckdb.connect(str(store), read_only=True)
    try:
        counts = con.execute(
            f"SELECT (SELECT count(*) FROM predictions), (SELECT count(*) FROM ({REFERENCE}))"
        ).fetchall()
        assert counts == [(15 * (50_000 + 46_837) + 80, 15 * (50_000 + 46_837) + 80)]
        differ = con.execute(
            f"""
            SELECT count(*) FROM (
                (SELECT * FROM predictions EXCEPT ALL {REFERENCE})
                UNION ALL ({REFERENCE} EXCEPT ALL SELECT * FROM predictions)
            )
            """
        ).fetchall()
        assert differ == [(0,)]
        accuracy = dict(
            con.execute(
                "SELECT dataset, avg(correct::int) FROM predictions "
                "WHERE dataset LIKE 'mini-%' GROUP BY 1"
            ).fetchall()
        )
        assert accuracy == {"mini-a": 1.0, "mini-b": 0.0}
    finally:
        con.close()
