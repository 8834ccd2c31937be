"""What the probe caches hold, and pruning them (`lottery cache list|prune`).

A cache folder (`<results>/feature-cache` unless a plan's `feature_cache` says otherwise) holds
feature entries (`features/<key>/`: one file per chunk, `key.json`, and `claim.json` while a
sweep computes a train folder's features) and heads trained on cached features
(`heads/<key>.pt`). Each is listed with its size, its last use (writing or reading a chunk
touches the entry) and any claim on it; runs whose `result.json` used an entry name it.

Pruning never deletes an entry a live claim holds: it claims each entry itself before deleting
(so no sweep starts computing into it meanwhile) and skips those another process holds; and it
keeps whatever was used in the last `IN_USE_S`, which a running job may still be reading.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lottery_tui.errors import LotteryError
from lottery_tui.probe import claims
from lottery_tui.probe.cache import (
    CHUNK_PREFIX,
    CHUNK_SUFFIX,
    FEATURES_DIR,
    HEADS_DIR,
    KEY_FILE,
    TRAIN_STORE,
)
from lottery_tui.runs import rundir
from lottery_tui.runs.launch import FEATURE_CACHE_DIR

# A job reading an entry touches it at every chunk; one not touched for this long is not being
# read (the same silence after which a claim on another host counts as dead).
IN_USE_S = claims.STALE_AFTER_S
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


@dataclass(frozen=True)
class CacheEntry:
    kind: str  # "features" or "head"
    path: Path
    size: int  # bytes
    chunks: int  # chunk files (a head: 0)
    last_use: float  # epoch seconds
    what: str
    claim: str = ""  # "held by pid N on HOST", "stale claim (pid N on HOST)", or ""
    held: bool = False  # a live claim holds it


@dataclass
class PruneReport:
    removed: list[CacheEntry] = field(default_factory=list)
    kept: list[tuple[CacheEntry, str]] = field(default_factory=list)  # entry, why

    @property
    def freed(self) -> int:
        return sum(e.size for e in self.removed)


def parse_duration(text: str) -> float:
    """`30d`, `12h`, `90m`, `45s`, `2w` in seconds; a one-line error for anything else."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise LotteryError(f"--older-than: {text!r} is not a duration (e.g. 30d, 12h, 90m, 45s)")
    return float(match.group(1)) * _UNITS[match.group(2)]


def cache_roots(results_dir: Path, explicit: Path | None = None) -> list[Path]:
    """The cache folders to look at: `explicit`, else the results folder's default one and every
    other one a run directory's `spec.json` names (a plan's `feature_cache`)."""
    if explicit is not None:
        if not explicit.is_dir():
            raise LotteryError(f"{explicit}: no such cache folder")
        return [explicit.resolve()]
    roots = [results_dir / FEATURE_CACHE_DIR]
    for run_dir in _run_dirs(results_dir):
        spec = rundir.read_json(run_dir / rundir.SPEC) or {}
        if isinstance(spec.get("cache_dir"), str):
            roots.append(Path(spec["cache_dir"]))
    unique = dict.fromkeys(r.resolve() for r in roots if r.is_dir())
    return list(unique)


def scan_cache(root: Path, results_dir: Path | None = None) -> list[CacheEntry]:
    """Every feature entry and trained head under the cache folder `root`, oldest use first."""
    names = _run_names(results_dir) if results_dir is not None else _Names()
    entries = []
    features = root / FEATURES_DIR
    for entry in sorted(features.iterdir()) if features.is_dir() else []:
        if entry.is_dir():
            entries.append(_feature_entry(entry, names))
    heads = root / HEADS_DIR
    for path in sorted(heads.glob("*.pt")) if heads.is_dir() else []:
        stat = path.stat()
        runs = names.by_head.get(str(path.resolve()))
        what = f"head trained for {', '.join(sorted(runs))}" if runs else "trained head"
        entries.append(CacheEntry("head", path, stat.st_size, 0, stat.st_mtime, what))
    return sorted(entries, key=lambda e: (e.last_use, str(e.path)))


def prune(
    entries: Iterable[CacheEntry],
    older_than_s: float | None = None,
    *,
    dry_run: bool = False,
    now: float | None = None,
) -> PruneReport:
    """Delete the entries last used more than `older_than_s` ago (None: all of them), except
    those used in the last `IN_USE_S` and those a live claim holds."""
    now = time.time() if now is None else now
    cutoff = now - max(older_than_s or 0.0, IN_USE_S)
    report = PruneReport()
    for entry in entries:
        if entry.held:
            report.kept.append((entry, entry.claim))
        elif entry.last_use > now - IN_USE_S:
            report.kept.append((entry, f"in use (used in the last {IN_USE_S / 60:.0f} min)"))
        elif entry.last_use > cutoff:
            report.kept.append((entry, "used more recently than --older-than"))
        elif dry_run or _delete(entry):
            report.removed.append(entry)
        else:
            report.kept.append((entry, "used or claimed by a sweep meanwhile"))
    return report


def _delete(entry: CacheEntry) -> bool:
    """Remove an entry; a feature entry under this process's own claim, so no sweep computes
    into it meanwhile (False: a job read it since the listing, or another process claimed it)."""
    if entry.kind == "head":
        entry.path.unlink(missing_ok=True)
        return True
    try:
        if entry.path.stat().st_mtime > entry.last_use:  # read or written since the listing
            return False
    except OSError:  # gone already
        return False
    claim = claims.try_claim(entry.path)
    if claim is None:
        return False
    for path in entry.path.iterdir():
        if path != claim.path:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
    claim.release()
    with contextlib.suppress(OSError):  # a sweep claimed it again right after: its files stay
        entry.path.rmdir()
    return True


def _feature_entry(entry: Path, names: _Names) -> CacheEntry:
    size, chunks, newest = 0, 0, entry.stat().st_mtime
    for path in entry.iterdir():
        try:
            stat = path.stat()
        except OSError:  # written or removed meanwhile
            continue
        size += stat.st_size
        newest = max(newest, stat.st_mtime)
        chunks += path.name.startswith(CHUNK_PREFIX) and path.name.endswith(CHUNK_SUFFIX)
    key = rundir.read_json(entry / KEY_FILE) or {}
    claim, held = "", False
    if claims.claim_path(entry).exists():
        held = not claims.is_stale(claims.claim_path(entry))
        who = claims.describe(claims.claim_path(entry))
        claim = f"held by {who}" if held else f"stale claim ({who})"
    return CacheEntry("features", entry, size, chunks, newest, names.of(entry, key), claim, held)


@dataclass
class _Names:
    """Which runs used which entry, from their `result.json`."""

    by_entry: dict[str, set[str]] = field(default_factory=dict)  # test-set entry -> runs
    by_checkpoint: dict[str, set[str]] = field(default_factory=dict)  # sha256 -> k-NN/train runs
    by_head: dict[str, set[str]] = field(default_factory=dict)  # saved head file -> models

    def of(self, entry: Path, key: dict) -> str:
        if key.get("store") == TRAIN_STORE:
            models = self.by_checkpoint.get(str(key.get("checkpoint_sha256")), set())
            used = f" of {', '.join(sorted(models))}" if models else ""
            return f"train-folder features{used} ({_describe_key(key)})"
        runs = self.by_entry.get(str(entry.resolve()), set())
        used = ", ".join(sorted(runs)) if runs else "no run in the results folder"
        return f"{used} ({_describe_key(key)})"


def _describe_key(key: dict) -> str:
    parts = [str(key.get(k)) for k in ("arch", "feature", "precision") if key.get(k)]
    return " ".join(parts) or "no key.json"


def _run_names(results_dir: Path) -> _Names:
    names = _Names()
    for run_dir in _run_dirs(results_dir):
        result = rundir.read_json(run_dir / rundir.RESULT) or {}
        config = result.get("config") or {}
        label = f"{result.get('model', '?')} on {result.get('dataset', '?')}"
        if isinstance(config.get("feature_cache"), str):
            entry = str(Path(config["feature_cache"]).resolve())
            names.by_entry.setdefault(entry, set()).add(label)
        head = config.get("head") if isinstance(config.get("head"), dict) else {}
        model = str(result.get("model", "?"))
        if head.get("kind") in ("knn", "train"):
            sha = str(config.get("checkpoint_sha256"))
            names.by_checkpoint.setdefault(sha, set()).add(model)
        if isinstance(head.get("saved_head"), str):
            saved = str(Path(head["saved_head"]).resolve())
            names.by_head.setdefault(saved, set()).add(model)
    return names


def _run_dirs(results_dir: Path) -> list[Path]:
    if not results_dir.is_dir():
        return []
    return [p for p in results_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]


def format_size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def format_age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    for unit, scale in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= scale:
            return f"{seconds / scale:.1f}{unit} ago"
    return f"{seconds:.0f}s ago"
