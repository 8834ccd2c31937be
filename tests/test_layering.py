"""The layer rules of docs/architecture.md, checked on the source with `ast`."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RULES = {
    # package folder -> top-level modules it must never import
    "analysis": {"duckdb", "textual", "torch", "torchvision"},
    "lottery_tui/store": {"textual", "torch", "torchvision"},
    "lottery_tui/report": {"textual", "torch", "torchvision"},
    "lottery_tui/probe": {"textual"},
    "lottery_tui/runs": {"textual", "torch", "torchvision"},
    "lottery_tui/tui": {"torch", "torchvision"},
}


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every import in a file, wherever it occurs (module or function)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_import_scanner_sees_nested_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\ndef f():\n    from torch.nn import Linear\n    import duckdb as d\n"
    )
    assert imported_modules(sample) == {"os", "torch", "duckdb"}


@pytest.mark.parametrize("package", sorted(RULES))
def test_layer_does_not_import_forbidden_modules(package: str) -> None:
    folder = ROOT / package
    assert folder.is_dir(), f"{package} is missing"
    violations = []
    for path in sorted(folder.rglob("*.py")):
        for name in sorted(imported_modules(path) & RULES[package]):
            violations.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not violations, "\n".join(violations)


def test_explorer_app_does_not_load_torch() -> None:
    code = "import sys, lottery_tui.tui.app; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_cli_parser_loads_no_heavy_modules() -> None:
    """`lottery --help` stays instant: commands import duckdb, torch, textual in handlers."""
    code = (
        "import sys; from lottery_tui.cli.main import build_parser; build_parser(); "
        "print(sorted(m for m in ('duckdb', 'torch', 'textual', 'pandas', 'scipy') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
