"""Atomic writes, checksums and a clear error when the disk fills up.

Readers in other processes (the runs follower, a resumed job) must never see half a file, so every
file is written under a temporary name and moved into place with `os.replace`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from lottery_tui.errors import LotteryError


class DiskFullError(LotteryError):
    """No space left while writing a run's files: nothing half-written is left behind."""


@contextlib.contextmanager
def disk_full_is_clear(path: Path | str) -> Iterator[None]:
    """Turn ENOSPC/EDQUOT into one line naming the file being written."""
    try:
        yield
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFullError(
                f"{path}: disk full while writing (free some space and rerun to resume)"
            ) from exc
        raise


def write_atomic(path: Path | str, writer: Callable[[Path], None]) -> None:
    """Call `writer(tmp)` on a temporary file beside `path`, then move it into place."""
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with disk_full_is_clear(path):
            writer(tmp)
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: Path | str, text: str) -> None:
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def sha256_file(path: Path | str, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()
