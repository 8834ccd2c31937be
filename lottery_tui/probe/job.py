"""The probe job process: `python -m lottery_tui.probe.job RUN_DIR [RUN_DIR ...]`.

One run directory runs one model on one dataset; several run as one sweep (decoded once per
preprocessing group for every model, `engine.run_sweep`). The files each run directory holds are
the contract in `contract.py`. Exit status: 0 all done, 1 any failed, 130 interrupted.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print("usage: python -m lottery_tui.probe.job RUN_DIR [RUN_DIR ...]", file=sys.stderr)
        return 2
    from lottery_tui.probe.engine import run_sweep_process

    return run_sweep_process([Path(a) for a in argv])


if __name__ == "__main__":
    sys.exit(main())
