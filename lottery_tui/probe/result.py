"""`result.json`, the last file a probe run writes (its presence means done), as one typed
`RunResult`: the engine writes it, and ingest, the CLI, a resumed sweep and the run status read it
through here only.

Reading is strict: a key this version does not know, a missing key or a value of the wrong type is
a one-line error naming the file. `sweep` and `derived` came later and default to none.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from lottery_tui.errors import InputError
from lottery_tui.probe.contract import RESULT_FILE, parse_json

_NUMBER = (int, float)


@dataclass(frozen=True)
class ShardEntry:
    """One Parquet shard: its name relative to `shards/`, sha256 and row count."""

    name: str
    sha256: str
    rows: int


@dataclass(frozen=True)
class DerivedScore:
    """A dataset scored from the run's logits (ImageNet val's R / A-clean subsets)."""

    n_images: int
    top1: float | None
    top5: float | None
    shards: list[ShardEntry]


@dataclass(frozen=True)
class RunResult:
    """A finished run: its scores, its shards and the full configuration it ran with
    (`config`: checkpoint sha256, layout, preprocessing, head, device, precision, TF32, library
    versions, skipped and fallback-decoded images; docs/probe.md)."""

    run_id: str
    model: str
    dataset: str
    n_images: int
    n_skipped: int
    top1: float | None
    top5: float | None
    images_per_s: float | None
    config: dict[str, Any]
    shards: list[ShardEntry]
    sweep: list[str] | None = None  # the run ids of its sweep, when run with others
    derived: dict[str, DerivedScore] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def write(self, run_dir: Path | str) -> None:
        from lottery_tui.probe.files import write_text_atomic

        write_text_atomic(Path(run_dir) / RESULT_FILE, self.to_json())

    @classmethod
    def read(cls, run_dir: Path | str) -> RunResult | None:
        """The run's result, None while it has none (not done); a malformed one is an error."""
        path = Path(run_dir) / RESULT_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise InputError(f"cannot read the run's result: {exc.strerror}", path) from exc
        return cls.from_json(text, path=path)

    @classmethod
    def from_json(cls, text: str, *, path: Path | str | None = None) -> RunResult:
        where = _Where(path)
        data = where.keys(parse_json(text, path), cls, "result")
        listed = where.kind(data["shards"], list, "shards")
        shards = [where.shard(s, f"shards[{i}]") for i, s in enumerate(listed)]
        derived = {}
        for name, part in where.kind(data.get("derived") or {}, dict, "derived").items():
            part = where.keys(part, DerivedScore, f"derived.{name}")
            derived[name] = DerivedScore(
                where.kind(part["n_images"], int, f"derived.{name}.n_images"),
                where.kind(part["top1"], _NUMBER, f"derived.{name}.top1", optional=True),
                where.kind(part["top5"], _NUMBER, f"derived.{name}.top5", optional=True),
                [
                    where.shard(s, f"derived.{name}.shards[{i}]")
                    for i, s in enumerate(
                        where.kind(part["shards"], list, f"derived.{name}.shards")
                    )
                ],
            )
        sweep = where.kind(data.get("sweep"), list, "sweep", optional=True)
        return cls(
            run_id=where.kind(data["run_id"], str, "run_id"),
            model=where.kind(data["model"], str, "model"),
            dataset=where.kind(data["dataset"], str, "dataset"),
            n_images=where.kind(data["n_images"], int, "n_images"),
            n_skipped=where.kind(data["n_skipped"], int, "n_skipped"),
            top1=where.kind(data["top1"], _NUMBER, "top1", optional=True),
            top5=where.kind(data["top5"], _NUMBER, "top5", optional=True),
            images_per_s=where.kind(data["images_per_s"], _NUMBER, "images_per_s", optional=True),
            config=where.kind(data["config"], dict, "config"),
            shards=shards,
            sweep=sweep,
            derived=derived,
        )


@dataclass(frozen=True)
class _Where:
    """Checks of one file's values, each failing with a one-line error naming the file."""

    path: Path | str | None

    def fail(self, message: str) -> InputError:
        return InputError(f"malformed result.json: {message}", self.path)

    def keys(self, data: Any, cls: type, what: str) -> dict[str, Any]:
        """`data` as an object with exactly `cls`'s fields (those with defaults optional)."""
        if not isinstance(data, dict):
            raise self.fail(f"{what} is not a JSON object")
        known = {f.name for f in fields(cls)}
        required = {
            f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING
        }
        unknown, missing = sorted(set(data) - known), sorted(required - set(data))
        if unknown:
            raise self.fail(f"unknown key(s) in {what}: {', '.join(unknown)}")
        if missing:
            raise self.fail(f"missing key(s) in {what}: {', '.join(missing)}")
        return data

    def kind(self, value: Any, kind: type | tuple, what: str, *, optional: bool = False) -> Any:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, kind):
            raise self.fail(f"{what} has the wrong type ({type(value).__name__})")
        return value

    def shard(self, data: Any, what: str) -> ShardEntry:
        data = self.keys(data, ShardEntry, what)
        return ShardEntry(
            self.kind(data["name"], str, f"{what}.name"),
            self.kind(data["sha256"], str, f"{what}.sha256"),
            self.kind(data["rows"], int, f"{what}.rows"),
        )
