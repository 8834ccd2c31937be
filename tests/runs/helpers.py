"""Shared by the runs tests: tiny plans on disk, the stand-in job command, polling."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

FAKE_JOB = (sys.executable, str(Path(__file__).with_name("fake_job.py")))


def wait_for(predicate: Callable[[], bool], timeout_s: float = 30.0, poll_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(poll_s)
    return predicate()


def write_fake_plan(
    root: Path,
    models: list[str],
    datasets: list[str],
    rules: dict[str, dict] | None = None,
    extra: str = "",
    device: str = "cpu",
) -> Path:
    """A plan whose files exist (checkpoint, one image per dataset) and whose datasets tell the
    stand-in job how to behave (`fake.json`)."""
    root.mkdir(parents=True, exist_ok=True)
    lines = ["[defaults]", f'device = "{device}"', "batch_size = 4", extra, ""]
    for name in models:
        ckpt = root / f"{name}.pth"
        ckpt.write_bytes(b"not really a checkpoint")
        lines += [
            "[[models]]",
            f'name = "{name}"',
            'framework = "supervised"',
            f'checkpoint = "{ckpt.name}"',
            'head = "builtin"',
            "",
        ]
    for ds in datasets:
        folder = root / ds
        (folder / "n01440764").mkdir(parents=True, exist_ok=True)
        (folder / "n01440764" / "a.jpg").write_bytes(b"\xff\xd8")
        (folder / "fake.json").write_text(json.dumps(rules or {}))
        lines += ["[[datasets]]", f'id = "{ds}"', f'path = "{ds}"', ""]
    plan = root / "plan.toml"
    plan.write_text("\n".join(lines))
    return plan
