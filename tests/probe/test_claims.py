"""Claims on feature-cache entries: exactly one holder; a dead or silent owner's claim is taken
over; released by its owner only."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

from lottery_tui.probe import claims


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_one_holder_at_a_time_and_release(tmp_path: Path) -> None:
    entry = tmp_path / "entry"
    first = claims.try_claim(entry)
    assert first is not None
    assert claims.try_claim(entry) is None  # held by a live process (this one)
    owner = claims.read_owner(claims.claim_path(entry))
    assert owner["pid"] == os.getpid() and owner["host"] == socket.gethostname()
    first.release()
    assert not claims.claim_path(entry).exists()
    assert claims.try_claim(entry) is not None


def test_a_dead_owners_claim_on_this_host_is_taken_over(tmp_path: Path) -> None:
    entry = tmp_path / "entry"
    entry.mkdir()
    path = claims.claim_path(entry)
    path.write_text(json.dumps({"host": socket.gethostname(), "pid": _dead_pid()}))
    taken = claims.try_claim(entry)
    assert taken is not None
    assert claims.read_owner(path)["pid"] == os.getpid()


def test_another_hosts_claim_is_stale_only_when_silent(tmp_path: Path) -> None:
    entry = tmp_path / "entry"
    entry.mkdir()
    path = claims.claim_path(entry)
    path.write_text(json.dumps({"host": "node-elsewhere", "pid": 1}))
    assert claims.try_claim(entry, stale_after_s=60) is None  # touched just now
    old = time.time() - 120
    os.utime(path, (old, old))
    assert claims.try_claim(entry, stale_after_s=60) is not None


def test_a_release_never_removes_anothers_claim(tmp_path: Path) -> None:
    entry = tmp_path / "entry"
    mine = claims.try_claim(entry)
    path = claims.claim_path(entry)
    path.write_text(json.dumps({"host": "node-elsewhere", "pid": 1}))  # taken over meanwhile
    mine.release()
    assert path.exists()
