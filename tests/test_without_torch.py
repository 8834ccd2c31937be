"""`pytest -m "not torch"` works on an install without torch (the probe extra): nothing it
collects imports torch, and every test that needs torch carries the `torch` marker."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
NEEDS_TORCH = {"torch", "torchvision", "write_tiny_probe_plan"}

# Run pytest with a finder that makes `import torch` fail, as on an install without it.
WITHOUT_TORCH = textwrap.dedent(
    """
    import sys

    class NoTorch:
        @staticmethod
        def find_spec(name, path=None, target=None):
            if name.split(".")[0] in ("torch", "torchvision"):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, NoTorch)
    import pytest

    sys.exit(pytest.main(sys.argv[1:]))
    """
)


def test_collection_without_torch_imports_nothing_from_it() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            WITHOUT_TORCH,
            "--collect-only",
            "-q",
            "-m",
            "not torch",
            "-p",
            "no:cacheprovider",
            str(TESTS),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "tests/probe/" not in result.stdout  # the folder that needs torch is not collected
    assert "test_without_torch.py::" in result.stdout


def _names(node: ast.AST) -> set[str]:
    found = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Import):
            found.update(alias.name.split(".")[0] for alias in sub.names)
        elif isinstance(sub, ast.ImportFrom) and sub.module:
            found.add(sub.module.split(".")[0])
        elif isinstance(sub, ast.Name):
            found.add(sub.id)
    return found


def _marked_torch(decorators: list[ast.expr]) -> bool:
    return any("mark.torch" in ast.unparse(d) for d in decorators)


def test_every_test_needing_torch_outside_tests_probe_is_marked() -> None:
    unmarked = []
    for path in sorted(TESTS.rglob("test_*.py")):
        if (TESTS / "probe") in path.parents:
            continue  # marked as a whole by tests/probe/conftest.py
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module_marked = any(
            isinstance(n, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in n.targets)
            and "mark.torch" in ast.unparse(n.value)
            for n in tree.body
        )
        top = {
            n
            for stmt in tree.body
            if isinstance(stmt, ast.Import | ast.ImportFrom)
            for n in _names(stmt)
        }
        for node in tree.body:
            if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test_")):
                continue
            needs = (_names(node) | top) & NEEDS_TORCH
            if needs and not (module_marked or _marked_torch(node.decorator_list)):
                unmarked.append(f"{path.relative_to(ROOT)}::{node.name} uses {sorted(needs)}")
    assert not unmarked, "\n".join(unmarked)
