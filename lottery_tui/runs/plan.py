"""Plan files: models x datasets to probe, with defaults and Slurm options, in TOML.

A plan is read whole and every structural problem is collected (not just the first), each with the
line of the plan it comes from, so a user fixes a 40-model plan in one pass. Checks that touch the
filesystem and the probe engine live in `plan_checks`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lottery_tui.errors import LotteryError
from lottery_tui.probe.contract import HEAD_SOLVERS, JobSpec

EXECUTORS = ("local", "slurm")
PRECISIONS = ("fp32", "bf16")
DECODERS = ("pil", "nvjpeg")  # lottery_tui.probe.contract.DECODERS
# The probe engine's head kinds; `released:PATH` is accepted as another name for `linear:PATH`.
HEAD_KINDS = ("builtin", "linear", "train", "knn")
_HEAD_ALIASES = {"released": "linear"}
_HEAD_HELP = "builtin, linear:PATH (or released:PATH), train:DIR or knn:DIR"

_DEFAULT_KEYS = {
    "device",
    "batch_size",
    "precision",
    "executor",
    "num_workers",
    "feature_cache",
    "head",
    "image_size",
    "chunk_size",
    "head_epochs",
    "head_solver",
    "allow_subset",
    "decoder",
}
_MODEL_KEYS = {"name", "framework", "checkpoint", "head", "arch", "batch_size", "precision"}
_DATASET_KEYS = {"id", "path"}
_SLURM_KEYS = {
    "partition",
    "account",
    "gpus_per_job",
    "cpus_per_job",
    "mem_gb",
    "time_limit",
    "max_parallel",
    "max_requeues",
    "qos",
    "constraint",
}
_SECTIONS = {"defaults", "models", "datasets", "slurm"}


@dataclass(frozen=True)
class PlanProblem:
    """One thing wrong in a plan, located as precisely as the plan allows."""

    message: str
    line: int | None = None
    column: str | None = None


class PlanError(LotteryError):
    """A plan with problems: all of them, one line each, so they can be fixed in one pass."""

    def __init__(self, path: Path | str, problems: list[PlanProblem]) -> None:
        self.path = Path(path)
        self.problems = problems
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def lines(self) -> list[str]:
        """The header, then one line per problem (each printed on its own line)."""
        lines = [f"{self.path}: {len(self.problems)} problem(s) in plan, nothing launched"]
        for p in self.problems:
            where = [str(self.path)]
            if p.line is not None:
                where.append(f"line {p.line}")
            if p.column is not None:
                where.append(f"column {p.column}")
            lines.append(f"  {', '.join(where)}: {p.message}")
        return lines


@dataclass(frozen=True)
class Head:
    """How a model gets ImageNet logits: its own classifier (`builtin`), a released head file
    (`linear`), a head trained on cached features of an ImageNet train folder (`train`), or k-NN
    on that folder's features (`knn`)."""

    kind: str
    path: Path | None = None


class _Located:
    """A plan entry that remembers where it and each of its keys were written, so a later check
    (plan_checks) can point at the line to fix."""

    line: int | None
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int | None:
        return self.key_lines.get(key, self.line)


@dataclass(frozen=True)
class ModelEntry(_Located):
    name: str
    framework: str
    checkpoint: Path
    head: Head
    arch: str | None = None
    batch_size: int | None = None
    precision: str | None = None
    line: int | None = None
    key_lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class DatasetEntry(_Located):
    id: str
    path: Path
    line: int | None = None
    key_lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Defaults:
    """A plan's `[defaults]`: the probe settings default to JobSpec's (the one table); batch size
    and workers left None follow the device (`probe.contract.default_batch_size`, ...)."""

    device: str = "auto"
    batch_size: int | None = None
    precision: str = JobSpec.precision
    executor: str = "local"
    num_workers: int | None = None
    feature_cache: Path | None = None
    image_size: int = JobSpec.image_size
    chunk_size: int = JobSpec.chunk_size
    head_epochs: int = JobSpec.head_epochs
    head_solver: str = JobSpec.head_solver
    allow_subset: bool = JobSpec.allow_subset
    decoder: str = JobSpec.decoder


@dataclass(frozen=True)
class SlurmOptions:
    partition: str | None = None
    account: str | None = None
    gpus_per_job: int = 1
    cpus_per_job: int = 8
    mem_gb: int | None = None
    time_limit_min: int = 240
    max_parallel: int | None = None
    max_requeues: int = 3
    qos: str | None = None
    constraint: str | None = None


@dataclass(frozen=True)
class Plan:
    path: Path
    defaults: Defaults
    models: tuple[ModelEntry, ...]
    datasets: tuple[DatasetEntry, ...]
    slurm: SlurmOptions = field(default_factory=SlurmOptions)

    def pairs(self) -> list[tuple[ModelEntry, DatasetEntry]]:
        """Every (model, dataset) job of the plan, models outermost."""
        return [(m, d) for m in self.models for d in self.datasets]

    def select(self, models: list[str] | None = None, datasets: list[str] | None = None) -> Plan:
        """The sub-plan of the named models and datasets (None keeps all), in plan order."""
        unknown = sorted(set(models or ()) - {m.name for m in self.models}) + sorted(
            set(datasets or ()) - {d.id for d in self.datasets}
        )
        if unknown:
            raise PlanError(self.path, [PlanProblem(f"not in the plan: {', '.join(unknown)}")])
        keep_m = tuple(m for m in self.models if models is None or m.name in models)
        keep_d = tuple(d for d in self.datasets if datasets is None or d.id in datasets)
        return replace(self, models=keep_m, datasets=keep_d)


class _Locator:
    """Line numbers of tables and keys in the plan text (tomllib gives values, not positions)."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z_.\-]+)\s*\]\]?")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")

    def __init__(self, text: str) -> None:
        self.tables: dict[tuple[str, int], int] = {}
        self.keys: dict[tuple[str, int, str], int] = {}
        counts: dict[str, int] = {}
        current: tuple[str, int] | None = None
        for number, raw in enumerate(text.splitlines(), start=1):
            header = self._HEADER.match(raw)
            if header:
                name = header.group(2)
                index = counts.get(name, -1) + 1 if header.group(1) == "[[" else 0
                counts[name] = index
                current = (name, index)
                self.tables.setdefault(current, number)
                continue
            key = self._KEY.match(raw)
            if key and current is not None:
                self.keys.setdefault((*current, key.group(1)), number)

    def lines_of(self, table: str, index: int) -> dict[str, int]:
        return {k: n for (t, i, k), n in self.keys.items() if (t, i) == (table, index)}

    def line(self, table: str, index: int = 0, key: str | None = None) -> int | None:
        if key is not None and (table, index, key) in self.keys:
            return self.keys[(table, index, key)]
        return self.tables.get((table, index))


@dataclass
class _Reader:
    """Reads typed values out of one TOML table, recording problems instead of raising."""

    table: dict[str, Any]
    name: str
    index: int
    loc: _Locator
    problems: list[PlanProblem]

    def problem(self, message: str, key: str | None = None) -> None:
        self.problems.append(
            PlanProblem(message, self.loc.line(self.name, self.index, key), column=key)
        )

    def unknown_keys(self, allowed: set[str]) -> None:
        for key in sorted(set(self.table) - allowed):
            self.problem(
                f"unknown key {key!r} in [{self.name}] (allowed: {', '.join(sorted(allowed))})", key
            )

    def get(self, key: str, kind: type, default: Any = None, *, required: bool = False) -> Any:
        if key not in self.table:
            if required:
                self.problem(f"missing required key {key!r}")
            return default
        value = self.table[key]
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            self.problem(f"{key} must be an integer, got {value!r}", key)
            return default
        if kind is str and (not isinstance(value, str) or not value.strip()):
            self.problem(f"{key} must be a non-empty string, got {value!r}", key)
            return default
        if kind is bool and not isinstance(value, bool):
            self.problem(f"{key} must be true or false, got {value!r}", key)
            return default
        return value

    def unique(
        self, key: str, value: str | None, seen: dict[str, int | None], what: str
    ) -> str | None:
        """`value`, or None (with a problem) when an earlier entry of this array used it."""
        if value is None:
            return None
        if value in seen:
            self.problem(f"{what} {value!r} already used at line {seen[value]}", key)
            return None
        seen[value] = self.loc.line(self.name, self.index, key)
        return value

    def at_least(self, key: str, minimum: int, default: int | None) -> int | None:
        value = self.get(key, int, default)
        if value is not None and value < minimum and key in self.table:
            self.problem(f"{key} must be >= {minimum}, got {value}", key)
            return default
        return value

    def positive(self, key: str, default: int | None) -> int | None:
        value = self.get(key, int, default)
        if value is not None and value <= 0 and key in self.table:
            self.problem(f"{key} must be positive, got {value}", key)
            return default
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str | None) -> str | None:
        value = self.get(key, str, default)
        if value is not None and value not in choices and key in self.table:
            self.problem(f"{key} must be one of {', '.join(choices)}; got {value!r}", key)
            return default
        return value


def parse_head(text: str, base: Path) -> Head | None:
    """`builtin`, `linear:PATH`, `released:PATH`, `train:DIR` or `knn:DIR` (None if malformed);
    relative paths are relative to the plan."""
    kind, sep, rest = text.strip().partition(":")
    kind = _HEAD_ALIASES.get(kind, kind)
    if kind == "builtin":
        return Head("builtin") if not rest.strip() else None
    if not sep or kind not in HEAD_KINDS or not rest.strip():
        return None
    return Head(kind, _resolve(rest.strip(), base))


def _resolve(value: str, base: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path)


def _time_limit_minutes(value: Any) -> int | None:
    """Minutes as an integer, or Slurm's `[D-]HH:MM:SS` / `HH:MM` string."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value > 0 else None
    if not isinstance(value, str):
        return None
    days = 0
    if "-" in value:
        day_text, _, value = value.partition("-")
        if not day_text.isdigit():
            return None
        days = int(day_text)
    parts = value.split(":")
    if not all(p.isdigit() for p in parts) or len(parts) not in (2, 3):
        return None
    hours, minutes = int(parts[0]), int(parts[1])
    seconds = int(parts[2]) if len(parts) == 3 else 0
    total = days * 1440 + hours * 60 + minutes + (1 if seconds else 0)
    return total or None


def load_plan(path: str | Path) -> Plan:
    """Parse and structurally validate a plan; raises `PlanError` listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(path, [PlanProblem(f"cannot read plan: {exc.strerror}")]) from exc
    return parse_plan(text, path)


def parse_plan(text: str, path: Path) -> Plan:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        line, col = (int(where.group(1)), where.group(2)) if where else (None, None)
        raise PlanError(path, [PlanProblem(f"not valid TOML: {message}", line, col)]) from exc
    base = path.resolve().parent
    loc = _Locator(text)
    problems: list[PlanProblem] = []
    for key in sorted(set(data) - _SECTIONS):
        problems.append(
            PlanProblem(
                f"unknown section {key!r} (allowed: {', '.join(sorted(_SECTIONS))})",
                loc.line(key),
            )
        )
    defaults_table = _table(data, "defaults", problems, loc)
    defaults = _read_defaults(defaults_table, loc, problems, base)
    head = defaults_table.get("head")
    models = _read_models(data, loc, problems, base, head if isinstance(head, str) else None)
    datasets = _read_datasets(data, loc, problems, base)
    slurm = _read_slurm(_table(data, "slurm", problems, loc), loc, problems)
    if problems:
        raise PlanError(path, problems)
    return Plan(path.resolve(), defaults, tuple(models), tuple(datasets), slurm)


def _table(data: dict, name: str, problems: list, loc: _Locator) -> dict:
    value = data.get(name, {})
    if not isinstance(value, dict):
        problems.append(PlanProblem(f"[{name}] must be a table", loc.line(name)))
        return {}
    return value


def _array(data: dict, name: str, problems: list, loc: _Locator) -> list[dict]:
    value = data.get(name)
    if value is None:
        problems.append(PlanProblem(f"the plan has no [[{name}]] entries"))
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        message = f"{name} must be an array of tables [[{name}]]"
        problems.append(PlanProblem(message, loc.line(name)))
        return []
    return value


def _read_defaults(table: dict, loc: _Locator, problems: list, base: Path) -> Defaults:
    r = _Reader(table, "defaults", 0, loc, problems)
    r.unknown_keys(_DEFAULT_KEYS)
    device = r.get("device", str, "auto")
    if device not in ("auto", "cpu", "cuda") and not re.fullmatch(r"cuda:\d+", device):
        r.problem(f"device must be auto, cpu or cuda; got {device!r}", "device")
        device = "auto"
    cache = r.get("feature_cache", str)
    num_workers = r.get("num_workers", int, Defaults.num_workers)
    if num_workers is not None and num_workers < 0:
        r.problem(f"num_workers must be >= 0, got {num_workers}", "num_workers")
        num_workers = Defaults.num_workers
    return Defaults(
        device=device,
        batch_size=r.positive("batch_size", Defaults.batch_size),
        precision=r.choice("precision", PRECISIONS, Defaults.precision),
        executor=r.choice("executor", EXECUTORS, Defaults.executor),
        num_workers=num_workers,
        feature_cache=_resolve(cache, base) if cache else None,
        image_size=r.positive("image_size", Defaults.image_size),
        chunk_size=r.positive("chunk_size", Defaults.chunk_size),
        head_epochs=r.positive("head_epochs", Defaults.head_epochs),
        head_solver=r.choice("head_solver", HEAD_SOLVERS, Defaults.head_solver),
        allow_subset=r.get("allow_subset", bool, Defaults.allow_subset),
        decoder=r.choice("decoder", DECODERS, Defaults.decoder),
    )


def _read_models(
    data: dict, loc: _Locator, problems: list, base: Path, default_head: str | None
) -> list[ModelEntry]:
    models: list[ModelEntry] = []
    seen: dict[str, int | None] = {}
    for i, table in enumerate(_array(data, "models", problems, loc)):
        r = _Reader(table, "models", i, loc, problems)
        r.unknown_keys(_MODEL_KEYS)
        name = r.get("name", str, required=True)
        framework = r.get("framework", str, required=True)
        checkpoint = r.get("checkpoint", str, required=True)
        head_text = r.get("head", str, default_head)
        head = None
        if head_text is None:
            r.problem(f"missing required key 'head' ({_HEAD_HELP})")
        else:
            head = parse_head(head_text, base)
            if head is None:
                r.problem(f"head must be {_HEAD_HELP}; got {head_text!r}", "head")
        name = r.unique("name", name, seen, "model name")
        entry_ok = None not in (name, framework, checkpoint, head)
        batch_size = r.positive("batch_size", None)
        precision = r.choice("precision", PRECISIONS, None)
        if entry_ok:
            models.append(
                ModelEntry(
                    name=name,
                    framework=framework,
                    checkpoint=_resolve(checkpoint, base),
                    head=head,
                    arch=r.get("arch", str),
                    batch_size=batch_size,
                    precision=precision,
                    line=loc.line("models", i),
                    key_lines=loc.lines_of("models", i),
                )
            )
    return models


def _read_datasets(data: dict, loc: _Locator, problems: list, base: Path) -> list[DatasetEntry]:
    datasets: list[DatasetEntry] = []
    seen: dict[str, int | None] = {}
    for i, table in enumerate(_array(data, "datasets", problems, loc)):
        r = _Reader(table, "datasets", i, loc, problems)
        r.unknown_keys(_DATASET_KEYS)
        dataset_id = r.get("id", str, required=True)
        folder = r.get("path", str, required=True)
        dataset_id = r.unique("id", dataset_id, seen, "dataset id")
        if dataset_id is not None and folder is not None:
            datasets.append(
                DatasetEntry(
                    dataset_id,
                    _resolve(folder, base),
                    loc.line("datasets", i),
                    loc.lines_of("datasets", i),
                )
            )
    return datasets


def _read_slurm(table: dict, loc: _Locator, problems: list) -> SlurmOptions:
    r = _Reader(table, "slurm", 0, loc, problems)
    r.unknown_keys(_SLURM_KEYS)
    limit = SlurmOptions.time_limit_min
    if "time_limit" in table:
        parsed = _time_limit_minutes(table["time_limit"])
        if parsed is None:
            r.problem(
                f"time_limit must be minutes or D-HH:MM:SS; got {table['time_limit']!r}",
                "time_limit",
            )
        else:
            limit = parsed
    return SlurmOptions(
        partition=r.get("partition", str),
        account=r.get("account", str),
        gpus_per_job=r.at_least("gpus_per_job", 0, SlurmOptions.gpus_per_job),
        cpus_per_job=r.positive("cpus_per_job", SlurmOptions.cpus_per_job),
        mem_gb=r.positive("mem_gb", None),
        time_limit_min=limit,
        max_parallel=r.positive("max_parallel", None),
        max_requeues=r.at_least("max_requeues", 0, SlurmOptions.max_requeues),
        qos=r.get("qos", str),
        constraint=r.get("constraint", str),
    )
