"""The first screen waits for no statistics: importing the app loads no scipy or statsmodels
(the model detail's Wilson interval imports the statistics layer when first needed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_app_import_loads_no_statistics_stack():
    code = (
        "import sys, lottery_tui.tui.app; "
        "print(sorted(m for m in ('scipy', 'statsmodels', 'analysis') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
