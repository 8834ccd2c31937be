"""Claims on feature-cache entries: one process computes an entry, the others wait and read it.

Two sweeps (two executors' lanes, two Slurm tasks) that need one checkpoint's train-folder
features would otherwise both extract 1.28 M images. A claim is a file created with O_EXCL in the
entry's folder, naming its owner (host, pid); the owner touches it at every chunk it saves. A
claim is stale, and taken over, when its owner's process is gone (same host) or it was not touched
for `STALE_AFTER_S` (another host: a node that died). A take-over goes through a second O_EXCL
file, so of several waiters exactly one takes a stale claim over.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lottery_tui.processes import pid_alive

CLAIM_FILE = "claim.json"
STALE_AFTER_S = 900.0  # a live owner touches its claim at every chunk (a few seconds to minutes)
TAKEOVER_STALE_S = 60.0  # a take-over whose taker died between its two steps


@dataclass
class Claim:
    """This process's claim on a feature-cache entry."""

    path: Path

    def heartbeat(self) -> None:
        """Still alive and computing (waiters on other hosts judge staleness by this)."""
        with contextlib.suppress(OSError):
            os.utime(self.path)

    def release(self) -> None:
        owner = read_owner(self.path)
        if owner is not None and _is_me(owner):
            self.path.unlink(missing_ok=True)


def claim_path(entry: Path) -> Path:
    return entry / CLAIM_FILE


def try_claim(entry: Path, stale_after_s: float = STALE_AFTER_S) -> Claim | None:
    """Claim the cache entry folder `entry`; None while another live process holds it."""
    entry.mkdir(parents=True, exist_ok=True)
    path = claim_path(entry)
    if _create(path):
        return Claim(path)
    if not is_stale(path, stale_after_s):
        return None
    guard = path.with_name(f"{path.name}.takeover")
    if _age(guard) > TAKEOVER_STALE_S:
        guard.unlink(missing_ok=True)
    if not _create(guard):
        return None  # another waiter is taking it over
    try:
        if is_stale(path, stale_after_s):
            path.unlink(missing_ok=True)
        return Claim(path) if _create(path) else None
    finally:
        guard.unlink(missing_ok=True)


def read_owner(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_stale(path: Path, stale_after_s: float = STALE_AFTER_S) -> bool:
    """The claim's owner is gone (its pid, on this host) or silent for `stale_after_s`."""
    owner = read_owner(path)
    if not path.exists():
        return True
    if owner is not None and owner.get("host") == socket.gethostname():
        return not pid_alive(int(owner.get("pid", -1)))
    return _age(path) > stale_after_s


def describe(path: Path) -> str:
    owner = read_owner(path) or {}
    return f"pid {owner.get('pid', '?')} on {owner.get('host', '?')}"


def _create(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"host": socket.gethostname(), "pid": os.getpid(), "t": time.time()}, f)
    return True


def _is_me(owner: dict[str, Any]) -> bool:
    return owner.get("host") == socket.gethostname() and owner.get("pid") == os.getpid()


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return float("inf")
