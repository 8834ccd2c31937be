"""docs/python.md's example runs as written (issue 22: CI executes it)."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "python.md"


def test_python_md_code_blocks_run_in_order(shipped_db, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 3
    monkeypatch.setenv("LOTTERY_DB", str(shipped_db))  # what `lottery_tui.open()` resolves
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)  # the documented example, as written
    out = capsys.readouterr().out
    report = namespace["report"]
    assert report.data.summary.text() in out and len(report.gains) == 5
    assert namespace["markdown"].startswith("# Benchmark-lottery report: reference imagenet")
    assert len(namespace["results"]) > 1000
    assert set(namespace["comparison"].rows["dataset"]) == {"imagenet", "imagenet-real"}
