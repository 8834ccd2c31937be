"""Whether a process still runs: one answer for stale claims, writer markers and run records
(a leaf every package may import, like `errors`)."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """True while process `pid` exists on this host (another user's counts: kill says EPERM)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
