"""`lottery cache list|prune`: sizes, last use and claims of a fake cache folder (file times set,
no waiting); pruning never touches an entry a live claim holds or one in use."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest

from lottery_tui.cli.main import main
from lottery_tui.runs import caches

DAY = 86400.0


def _age(path: Path, seconds: float) -> None:
    when = time.time() - seconds
    for p in [*path.rglob("*"), path] if path.is_dir() else [path]:
        os.utime(p, (when, when))


def _entry(root: Path, name: str, key: dict, chunks: int, age_s: float, claim: dict | None = None):
    entry = root / "features" / name
    entry.mkdir(parents=True)
    (entry / "key.json").write_text(json.dumps(key))
    for k in range(chunks):
        (entry / f"chunk-{k:05d}.pt").write_bytes(b"x" * 1000)
    if claim is not None:
        (entry / "claim.json").write_text(json.dumps(claim))
    _age(entry, age_s)
    return entry


@pytest.fixture
def cache(tmp_path: Path) -> dict[str, Path]:
    """A results folder with one finished run, and its cache: an old test-set entry that run
    used, an old train entry a live process claims, an old one with a dead owner's claim on
    another host, a test entry in use (touched a minute ago), a week-old one, an old head."""
    results = tmp_path / "results"
    root = results / "feature-cache"
    key = {"arch": "resnet50", "feature": "avgpool", "precision": "fp32", "store": "float32"}
    train_key = {**key, "store": "float16", "checkpoint_sha256": "abc"}
    me = {"host": socket.gethostname(), "pid": os.getpid(), "t": 0}
    dead = {"host": "node-gone", "pid": 1, "t": 0}
    paths = {
        "old": _entry(root, "old", key, 3, 40 * DAY),
        "held": _entry(root, "held", train_key, 2, 40 * DAY, claim=me),
        "stale": _entry(root, "stale", train_key, 1, 40 * DAY, claim=dead),
        "busy": _entry(root, "busy", key, 1, 60.0),
        "week": _entry(root, "week", key, 1, 7 * DAY),
    }
    (root / "heads").mkdir()
    paths["head"] = root / "heads" / "h.pt"
    paths["head"].write_bytes(b"h" * 500)
    _age(paths["head"], 40 * DAY)
    run = results / "dino-r50--imagenet--12345678"
    run.mkdir()
    result = {
        "model": "dino-r50",
        "dataset": "imagenet",
        "config": {
            "feature_cache": str(paths["old"]),
            "checkpoint_sha256": "abc",
            "head": {"kind": "knn", "saved_head": None},
        },
    }
    (run / "result.json").write_text(json.dumps(result))
    paths["results"] = results
    return paths


def test_list_shows_what_each_entry_is_its_size_last_use_and_claim(cache, capsys):
    assert main(["cache", "list", "--results-dir", str(cache["results"])]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[2:]}
    files = [p for p in (cache["results"] / "feature-cache").rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)  # 8 chunks of 1000 B, keys, claims, the head
    assert out.splitlines()[0].endswith(f"6 entries, {total / 1024:.1f} KiB")
    assert "dino-r50 on imagenet (resnet50 avgpool fp32)" in lines["features/old"]
    size = sum(p.stat().st_size for p in cache["old"].iterdir())  # 3 chunks and key.json
    assert lines["features/old"].split()[1:4] == [f"{size / 1024:.1f}", "KiB", "3"]
    assert "40.0d ago" in lines["features/old"]
    assert f"held by pid {os.getpid()} on {socket.gethostname()}" in lines["features/held"]
    assert "train-folder features of dino-r50" in lines["features/held"]
    assert "stale claim (pid 1 on node-gone)" in lines["features/stale"]
    assert "no run in the results folder" in lines["features/busy"]
    assert "trained head" in lines["heads/h.pt"]


def test_prune_dry_run_names_what_would_go_and_deletes_nothing(cache, capsys):
    before = sorted(p for p in cache["results"].rglob("*"))
    assert main(["cache", "prune", "--dry-run", "--results-dir", str(cache["results"])]) == 0
    out = capsys.readouterr().out
    assert sorted(p for p in cache["results"].rglob("*")) == before
    assert "would remove 4 entries" in out
    assert f"kept features/held: held by pid {os.getpid()}" in out
    assert "kept features/busy: in use (used in the last 15 min)" in out


def test_prune_older_than_keeps_claimed_busy_and_recent_entries(cache, capsys):
    args = ["cache", "prune", "--older-than", "30d", "--results-dir", str(cache["results"])]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "removed 3 entries" in out
    assert not cache["old"].exists() and not cache["stale"].exists()
    assert not cache["head"].exists()
    assert sorted(p.name for p in cache["held"].iterdir()) == [
        "chunk-00000.pt",
        "chunk-00001.pt",
        "claim.json",
        "key.json",
    ]
    assert (cache["busy"] / "chunk-00000.pt").exists()
    assert (cache["week"] / "chunk-00000.pt").exists()
    assert "kept features/week: used more recently than --older-than" in out


def test_prune_skips_an_entry_a_sweep_claims_after_the_listing(cache):
    entries = caches.scan_cache(cache["results"] / "feature-cache")
    old = next(e for e in entries if e.path == cache["old"])
    assert not old.held
    claim = cache["old"] / "claim.json"
    claim.write_text(json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "t": 0}))
    os.utime(cache["old"], (old.last_use, old.last_use))  # the claim's file changed the folder
    report = caches.prune([old])
    assert report.removed == [] and report.kept == [(old, "used or claimed by a sweep meanwhile")]
    assert (cache["old"] / "chunk-00002.pt").exists()


def test_prune_skips_an_entry_read_after_the_listing(cache):
    [old] = [
        e for e in caches.scan_cache(cache["results"] / "feature-cache") if e.path == cache["old"]
    ]
    os.utime(cache["old"])  # a job read a chunk (FeatureCache.load touches the entry)
    report = caches.prune([old])
    assert report.removed == [] and report.kept == [(old, "used or claimed by a sweep meanwhile")]
    assert len(list(cache["old"].glob("chunk-*.pt"))) == 3


@pytest.mark.parametrize("bad", ["3x", "", "ten days", "-1d"])
def test_a_bad_duration_is_a_one_line_error_and_nothing_goes(cache, capsys, bad):
    before = sorted(p for p in cache["results"].rglob("*"))
    code = main(["cache", "prune", f"--older-than={bad}", "--results-dir", str(cache["results"])])
    err = capsys.readouterr().err
    assert code == 2
    assert (
        err
        == f"lottery: error: --older-than: {bad!r} is not a duration (e.g. 30d, 12h, 90m, 45s)\n"
    )
    assert sorted(p for p in cache["results"].rglob("*")) == before


def test_a_missing_cache_folder_is_a_one_line_error(tmp_path, capsys):
    code = main(["cache", "list", "--cache-dir", str(tmp_path / "nowhere")])
    assert code == 2
    assert (
        capsys.readouterr().err == f"lottery: error: {tmp_path / 'nowhere'}: no such cache folder\n"
    )


def test_durations():
    assert caches.parse_duration("30d") == 30 * DAY
    assert caches.parse_duration("1.5h") == 5400
    assert caches.parse_duration("90m") == 5400
    assert caches.parse_duration("2w") == 14 * DAY


@pytest.mark.torch
def test_reading_a_chunk_marks_the_entry_used(tmp_path):
    import torch

    from lottery_tui.probe.cache import Chunk, FeatureCache

    cache = FeatureCache(tmp_path, {"a": 1})
    cache.save(0, Chunk(torch.zeros(2, 3), [0, 1], []))
    _age(cache.dir, 40 * DAY)
    [entry] = caches.scan_cache(tmp_path)
    assert time.time() - entry.last_use > 39 * DAY
    assert cache.load(0) is not None
    [entry] = caches.scan_cache(tmp_path)
    assert time.time() - entry.last_use < 60
