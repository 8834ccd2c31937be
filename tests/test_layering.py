"""The layer rules of docs/architecture.md, checked on the source with `ast`."""

from __future__ import annotations

import ast
import re
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
    "lottery_tui/figures": {"duckdb", "textual", "torch", "torchvision"},
    "lottery_tui/probe": {"textual"},
    "lottery_tui/runs": {"textual", "torch", "torchvision"},
    "lottery_tui/tui": {"torch", "torchvision"},
}


# Which lottery_tui packages each package may import (docs/architecture.md); `errors` is shared by
# all, `processes` (is a pid alive) by the store, probe and runs, `safe_text` (names shown
# safely) by the CLI and the explorer. The CLI may import everything.
# The probe engine reaches the store only from ingest.py (and store.paths, a leaf that names the
# shipped data folder).
INTERNAL_RULES = {
    "analysis": {"analysis"},
    "lottery_tui/store": {"errors", "processes", "store"},
    "lottery_tui/report": {"errors", "store", "report", "analysis"},
    "lottery_tui/figures": {"errors", "safe_text", "figures", "report", "analysis"},
    "lottery_tui/probe": {"errors", "processes", "probe", "store"},
    "lottery_tui/runs": {"errors", "processes", "runs", "probe", "store"},
    "lottery_tui/tui": {
        "errors",
        "safe_text",
        "tui",
        "store",
        "report",
        "runs",
        "analysis",
        "figures",
        "api",  # the explorer calls the Python API (the figure export), not a parallel path
    },
}
PROBE_STORE_USERS = {"lottery_tui/probe/ingest.py"}
PROBE_STORE_ANYWHERE = {"lottery_tui.store.paths"}

# SQL naming one of the store's internal tables (or internal views): only lottery_tui/store/
# writes it (the explorer's queries are in store/explore.py and store/explore_charts.py).
PUBLIC_VIEWS = {"results", "predictions"}


def internal_relations() -> set[str]:
    from lottery_tui.store import schema

    ddl = schema.TABLES + schema.VIEWS
    names = set(re.findall(r"CREATE (?:TABLE|OR REPLACE VIEW) (?:IF NOT EXISTS )?(\w+)", ddl))
    return names - PUBLIC_VIEWS


def lottery_packages(path: Path) -> dict[str, set[str]]:
    """lottery_tui packages (and `analysis`) a file imports -> the full module names."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
            if node.module == "lottery_tui":
                modules = [f"lottery_tui.{alias.name}" for alias in node.names]
        for module in modules:
            parts = module.split(".")
            if parts[0] == "analysis":
                found.setdefault("analysis", set()).add(module)
            elif parts[0] == "lottery_tui" and len(parts) > 1:
                found.setdefault(parts[1], set()).add(module)
    return found


@pytest.mark.parametrize("package", sorted(INTERNAL_RULES))
def test_layer_imports_only_the_packages_it_may(package: str) -> None:
    violations = []
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = str(path.relative_to(ROOT))
        for imported, modules in sorted(lottery_packages(path).items()):
            if imported not in INTERNAL_RULES[package]:
                violations.append(f"{relative} imports {sorted(modules)}")
            elif (
                package == "lottery_tui/probe"
                and imported == "store"
                and relative not in PROBE_STORE_USERS
                and not modules <= PROBE_STORE_ANYWHERE
            ):
                violations.append(f"{relative} imports {sorted(modules)} (only ingest.py may)")
    assert not violations, "\n".join(violations)


def sql_against_internal_tables(path: Path) -> list[str]:
    """`line: match` for each string constant of the file naming an internal table in SQL."""
    tables = "|".join(sorted(internal_relations()))
    pattern = re.compile(rf"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+(?:{tables})\b")
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        text = node.value if isinstance(node, ast.Constant) else None
        if isinstance(text, str) and (match := pattern.search(text)):
            found.append(f"{node.lineno}: {match.group(0)}")
    return found


def test_only_the_store_writes_sql_against_its_tables() -> None:
    violations = []
    for path in sorted((ROOT / "lottery_tui").rglob("*.py")):
        relative = str(path.relative_to(ROOT))
        if relative.startswith("lottery_tui/store/"):
            continue
        violations += [f"{relative}:{hit}" for hit in sql_against_internal_tables(path)]
    assert not violations, "\n".join(violations)


def test_the_sql_rule_sees_internal_tables() -> None:
    assert {"models", "sources", "prediction_rows", "probe_runs", "image_predictions"} <= (
        internal_relations()
    )
    assert not internal_relations() & PUBLIC_VIEWS


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


def fresh_python(code: str) -> str:
    """What `code` prints in a new interpreter (modules loaded here do not count)."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_explorer_app_does_not_load_torch() -> None:
    code = "import sys, lottery_tui.tui.app; print('torch' in sys.modules)"
    assert fresh_python(code) == "False"


def test_cli_parser_loads_no_heavy_modules() -> None:
    """`lottery --help` stays instant: commands import duckdb, torch, textual in handlers."""
    code = (
        "import sys; from lottery_tui.cli.main import build_parser; build_parser(); "
        "print(sorted(m for m in ('duckdb', 'torch', 'textual', 'pandas', 'scipy') "
        "if m in sys.modules))"
    )
    assert fresh_python(code) == "[]"


def module_level_imports(path: Path) -> set[str]:
    """Full module names a file imports when it is itself imported (its top-level statements)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8"), filename=str(path)).body:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def probe_modules_loading_torch() -> set[str]:
    """Probe modules whose import loads torch: those importing it at the top, and those
    importing one of them at the top."""
    imports = {
        f"lottery_tui.probe.{path.stem}": module_level_imports(path)
        for path in (ROOT / "lottery_tui/probe").glob("*.py")
    }
    loading = {m for m, names in imports.items() if any(n.split(".")[0] == "torch" for n in names)}
    grew = True
    while grew:
        more = {m for m, names in imports.items() if names & loading} - loading
        loading |= more
        grew = bool(more)
    return loading


def test_the_torch_scan_sees_the_engine_and_spares_the_contract() -> None:
    loading = probe_modules_loading_torch()
    assert {"lottery_tui.probe.engine", "lottery_tui.probe.checkpoints"} <= loading
    assert not {"lottery_tui.probe.contract", "lottery_tui.probe.model_checks"} & loading


def test_runs_never_imports_a_probe_module_that_loads_torch() -> None:
    """Not even inside a function: the torch-side checks (checkpoint layouts, head files) are
    passed into runs/ by its callers (`plan_checks.ModelFileCheck`)."""
    loading = probe_modules_loading_torch()
    violations = []
    for path in sorted((ROOT / "lottery_tui/runs").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                names = {alias.name for alias in node.names}
            else:
                continue
            for name in sorted(names & loading):
                violations.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert not violations, "\n".join(violations)


def test_runs_modules_load_no_torch() -> None:
    """Every module of runs/ imported (plan_checks among them) and a plan checked without the
    injected file checks, in a fresh interpreter: torch is never loaded."""
    code = (
        "import sys, pkgutil, importlib, tempfile, pathlib\n"
        "import lottery_tui.runs as runs\n"
        "for info in pkgutil.walk_packages(runs.__path__, 'lottery_tui.runs.'):\n"
        "    importlib.import_module(info.name)\n"
        "from lottery_tui.runs.plan import parse_plan\n"
        "from lottery_tui.runs.plan_checks import check_plan\n"
        "root = pathlib.Path(tempfile.mkdtemp())\n"
        'text = \'[[models]]\\nname = "m"\\nframework = "dino"\\ncheckpoint = "c.pth"\\n\'\n'
        'text += \'head = "builtin"\\n[[datasets]]\\nid = "imagenet"\\npath = "val"\\n\'\n'
        "(root / 'c.pth').write_bytes(b'x')\n"
        "problems = check_plan(parse_plan(text, root / 'plan.toml'), 'local', root / 'r',\n"
        "                      gpus=[], file_checks=None)\n"
        "assert problems, 'the missing val folder is a problem'\n"
        "print('torch' in sys.modules)\n"
    )
    assert fresh_python(code) == "False"
