"""Plan files: a valid plan parses; every problem of a bad plan is reported at once, with lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from lottery_tui.runs.plan import PlanError, load_plan, parse_plan

GOOD = """
[defaults]
device = "auto"
batch_size = 128
precision = "bf16"

[[models]]
name = "dino-r50"
framework = "dino"
checkpoint = "ckpt/dino.pth"
head = "released:heads/dino_linear.pth"

[[models]]
name = "swav-r50"
framework = "swav"
checkpoint = "/abs/swav.pth"
head = "knn:/data/imagenet/train"
batch_size = 64

[[datasets]]
id = "imagenet"
path = "/data/imagenet/val"

[[datasets]]
id = "imagenet-sketch"
path = "sketch"

[slurm]
partition = "gpu"
account = "lab"
time_limit = "1-02:30:00"
gpus_per_job = 1
"""


def test_good_plan_parses_paths_relative_to_the_plan(tmp_path: Path) -> None:
    plan = parse_plan(GOOD, tmp_path / "plan.toml")
    assert [m.name for m in plan.models] == ["dino-r50", "swav-r50"]
    dino, swav = plan.models
    assert dino.checkpoint == tmp_path / "ckpt/dino.pth"
    assert (dino.head.kind, dino.head.path) == ("linear", tmp_path / "heads/dino_linear.pth")
    assert (swav.head.kind, swav.head.path) == ("knn", Path("/data/imagenet/train"))
    assert swav.batch_size == 64 and dino.batch_size is None
    assert plan.defaults.precision == "bf16" and plan.defaults.batch_size == 128
    assert plan.datasets[1].path == tmp_path / "sketch"
    assert plan.slurm.time_limit_min == 24 * 60 + 2 * 60 + 30
    assert plan.slurm.partition == "gpu" and plan.slurm.account == "lab"
    assert len(plan.pairs()) == 4
    # The line of the checkpoint key of the second model (counting from the text itself).
    assert swav.line_of("checkpoint") == GOOD.splitlines().index('checkpoint = "/abs/swav.pth"') + 1


def test_select_keeps_plan_order_and_rejects_unknown_names(tmp_path: Path) -> None:
    plan = parse_plan(GOOD, tmp_path / "plan.toml")
    sub = plan.select(models=["swav-r50"], datasets=["imagenet-sketch", "imagenet"])
    assert [(m.name, d.id) for m, d in sub.pairs()] == [
        ("swav-r50", "imagenet"),
        ("swav-r50", "imagenet-sketch"),
    ]
    with pytest.raises(PlanError, match="not in the plan: mae"):
        plan.select(models=["mae"])


BAD = """[defaults]
precision = "fp8"
batchsize = 3

[[models]]
name = "a"
framework = "dino"
checkpoint = "a.pth"
head = "linear"

[[models]]
name = "a"
checkpoint = "b.pth"
head = "builtin"

[[datasets]]
id = "imagenet"

[slurm]
time_limit = "soon"
"""


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(BAD)
    with pytest.raises(PlanError) as info:
        load_plan(path)
    problems = {(p.line, p.message.split(" ")[0]) for p in info.value.problems}
    lines = BAD.splitlines()

    def line_of(text: str) -> int:
        return lines.index(text) + 1

    messages = [p.message for p in info.value.problems]
    assert len(info.value.problems) == 7, messages
    assert (line_of('precision = "fp8"'), "precision") in problems
    assert (line_of("batchsize = 3"), "unknown") in problems
    assert (line_of('head = "linear"'), "head") in problems  # linear needs a path
    second_name = [i + 1 for i, text in enumerate(lines) if text == 'name = "a"'][1]
    assert (second_name, "model") in problems  # duplicate name, at its second use
    assert any("missing required key 'framework'" in m for m in messages)
    assert any("missing required key 'path'" in m for m in messages)
    assert (line_of('time_limit = "soon"'), "time_limit") in problems
    text = str(info.value)
    assert text.splitlines()[0].endswith("7 problem(s) in plan, nothing launched")
    assert f"{path}, line {line_of('batchsize = 3')}, column batchsize:" in text


def test_toml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text('[defaults]\ndevice = "cpu\n')
    with pytest.raises(PlanError) as info:
        load_plan(path)
    (problem,) = info.value.problems
    assert problem.line == 2 and "not valid TOML" in problem.message


def test_missing_plan_file_is_one_clear_problem(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="cannot read plan"):
        load_plan(tmp_path / "nope.toml")


@pytest.mark.parametrize(("key", "value"), [("gpus_per_job", -2), ("max_requeues", -1)])
def test_negative_slurm_counts_are_refused_with_their_line(tmp_path: Path, key, value) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(
        '[[models]]\nname = "a"\nframework = "dino"\ncheckpoint = "a.pth"\nhead = "builtin"\n\n'
        f'[[datasets]]\nid = "imagenet"\npath = "val"\n\n[slurm]\n{key} = {value}\n'
    )
    with pytest.raises(PlanError) as info:
        load_plan(path)
    (problem,) = info.value.problems
    assert problem.message == f"{key} must be >= 0, got {value}"
    assert problem.line == 12


def test_a_train_folder_with_the_wrong_layout_is_a_plan_problem(tmp_path: Path) -> None:
    """A `knn:` folder of loose images (not wnid class folders): refused at plan time, and the
    message says it is the train folder (the job lists a test set too)."""
    from lottery_tui.runs.plan_checks import check_plan

    train = tmp_path / "train"
    (train / "not-a-wnid").mkdir(parents=True)
    (train / "not-a-wnid" / "a.JPEG").write_bytes(b"\xff\xd8")
    (tmp_path / "a.pth").write_bytes(b"x")
    (tmp_path / "val").mkdir()
    path = tmp_path / "plan.toml"
    path.write_text(
        '[defaults]\ndevice = "cpu"\nallow_subset = true\n\n'
        '[[models]]\nname = "a"\nframework = "dino"\ncheckpoint = "a.pth"\nhead = "knn:train"\n\n'
        '[[datasets]]\nid = "imagenet"\npath = "val"\n'
    )
    problems = check_plan(load_plan(path), "local", tmp_path / "results", gpus=[], file_checks=None)
    mine = [p for p in problems if p.column == "head"]
    assert len(mine) == 1 and "train folder" in mine[0].message, [p.message for p in problems]
    assert mine[0].line == 9


def test_the_cli_prints_each_plan_problem_on_its_own_line(tmp_path: Path, capsys) -> None:
    from lottery_tui.cli.main import main

    path = tmp_path / "plan.toml"
    path.write_text(BAD)
    db = ["--db", str(tmp_path / "store.duckdb")]
    assert main(["probe", "--plan", str(path), *db]) != 0
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"lottery: error: {path}: 7 problem(s) in plan, nothing launched"
    assert len(lines) == 8 and all(line.startswith(f"  {path}") for line in lines[1:])
