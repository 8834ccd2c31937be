"""Every CLI entry point, given bad arguments or bad paths: one line, the right exit code, no
traceback, no hang (FIFOs, devices and directories are refused before anything opens them).

In-process through `main` (fast), with an alarm so a hang fails instead of stalling the suite;
Ctrl-C, a closed pipe and a missing optional extra run the real `lottery` in a subprocess.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lottery_tui.cli.main import main

from .conftest import file_fingerprint

LOTTERY = Path(sys.executable).with_name("lottery")
ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
HANG_SECONDS = 30


@pytest.fixture
def paths(results_db: Path, tmp_path: Path) -> dict[str, str]:
    """Named paths the argument lists below refer to as {name}."""
    store = tmp_path / "store.duckdb"
    shutil.copyfile(results_db, store)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "dir").mkdir()
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "garbage.duckdb").write_bytes(b"not a database\n" * 300)
    (tmp_path / "lite.sqlite").write_bytes(b"SQLite format 3\x00" + bytes(4080))
    (tmp_path / "plan.toml").write_text("this is = = not toml\n")
    return {
        "db": str(store), "fifo": str(fifo), "dir": str(tmp_path / "dir"),
        "empty": str(tmp_path / "empty.csv"), "garbage": str(tmp_path / "garbage.duckdb"),
        "lite": str(tmp_path / "lite.sqlite"), "missing": str(tmp_path / "missing.csv"),
        "plan": str(tmp_path / "plan.toml"), "null": os.devnull,
    }  # fmt: skip


CASES = [
    # sql
    "sql 'SELEC 1' --db {db}",
    "sql 'SELECT nope' --db {db}",
    "sql '' --db {db}",
    "sql 'SELECT 1' --db {fifo}",
    "sql 'SELECT 1' --db {dir}",
    "sql 'SELECT 1' --db {null}",
    "sql 'SELECT 1' --db {garbage}",
    "sql 'SELECT 1' --db {lite}",
    "sql 'UPDATE EXTENSIONS' --db {db}",
    "sql 'SELECT 1' --format xml --db {db}",
    # catalog
    "models --format xml --db {db}",
    "models --db {fifo}",
    "datasets --db {dir}",
    "datasets --db {garbage}",
    # import
    "import results {fifo} --db {db}",
    "import results {dir} --db {db}",
    "import results {null} --db {db}",
    "import results {missing} --db {db}",
    "import results {empty} --db {db}",
    "import timm {fifo} --db {db}",
    "import timm {dir} --db {db}",
    "import predictions {fifo} --model m --dataset imagenet --db {db}",
    "import predictions {null} --model m --dataset imagenet --db {db}",
    "import predictions {dir} --model m --dataset imagenet --db {db}",
    "import predictions {missing} --db {db}",
    "import dataset my-set --labels {fifo} --db {db}",
    "import dataset my-set --labels {null} --db {db}",
    "import dataset my-set --labels {dir} --db {db}",
    "import dataset my-set --labels {empty} --db {db}",
    "import dataset imagenet --db {db}",
    "import dataset my-set --classes x --db {db}",
    "import results {empty} --db {fifo}",
    "import nothing {empty} --db {db}",
    # db, report, compare
    "db info --db {fifo}",
    "db info --db {garbage}",
    "db info --format xml --db {db}",
    "db",
    "report --reference no-such-dataset --db {db}",
    "report --top 0 --db {db}",
    "report --pair only-one --db {db}",
    "report --db {dir}",
    "compare a-model another-model --db {db}",
    "compare onlyone --db {db}",
    "compare a b --db {fifo}",
    # probe, runs
    "probe --db {db}",
    "probe --model m --framework nope --checkpoint {missing} --dataset imagenet={dir} --db {db}",
    "probe --model m --framework dino --checkpoint {missing} --dataset bad --db {db}",
    "probe --plan {missing} --db {db}",
    "probe --plan {plan} --db {db}",
    "probe --plan {fifo} --db {db}",
    "probe --plan {dir} --db {db}",
    "runs show --db {db}",
    "runs logs no-such-run --db {db}",
    "runs cancel no-such-run --db {db}",
    "runs sync --db {fifo}",
    "runs sync --db {garbage}",
    "runs no-such-action --db {db}",
    # the explorer's options
    "--no-such-option",
]


class Hung(BaseException):
    """Not an Exception: `main` must not turn a hang into a tidy one-line error."""


def _alarm(signum: int, frame: object) -> None:
    raise Hung(f"hung for {HANG_SECONDS} s")


@pytest.mark.parametrize("case", CASES)
def test_bad_arguments_give_one_line(case: str, paths: dict[str, str], capsys) -> None:
    import shlex

    argv = [arg.format(**paths) for arg in shlex.split(case)]
    before = file_fingerprint(Path(paths["db"]))
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HANG_SECONDS)
    try:
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: usage and one error line
            code = exc.code
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    err = capsys.readouterr().err
    assert code not in (0, None), err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    if lines[0].startswith("usage:"):  # argparse's own format
        assert "error:" in lines[-1]
    else:
        assert len(lines) == 1, err
        assert lines[0].startswith("lottery: error: "), err
    assert file_fingerprint(Path(paths["db"])) == before


def _lottery(*args: str, **popen: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(LOTTERY), *args], env=popen.pop("env", ENV), text=True, stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), **popen,
    )  # fmt: skip


def test_ctrl_c_during_a_long_query_exits_130(results_db: Path) -> None:
    proc = _lottery(
        "sql", "SELECT sum(a.range * b.range) FROM range(60000) a, range(60000) b",
        "--db", str(results_db), stdout=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(4)  # started, and inside the query
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err == "lottery: interrupted\n"


@pytest.mark.parametrize(
    "args", [["models"], ["sql", "SELECT * FROM range(200000)"], ["runs", "list"]]
)
def test_a_closed_pipe_exits_0(args: list[str], results_db: Path) -> None:
    proc = _lottery(*args, "--db", str(results_db), stdout=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read() if proc.stderr else ""
    assert proc.wait(timeout=60) == 0
    assert err == ""


def test_probe_without_the_probe_extra_is_one_line(results_db: Path, tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\nsys.modules['torch'] = None\nsys.modules['torchvision'] = None\n"
    )
    env = {**ENV, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    (tmp_path / "ckpt.pth").write_bytes(b"weights")
    proc = _lottery(
        "probe", "--model", "m", "--framework", "dino", "--checkpoint", str(tmp_path / "ckpt.pth"),
        "--dataset", f"imagenet={tmp_path}", "--db", str(results_db), env=env,
    )  # fmt: skip
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err == (
        "lottery: error: torch is not installed; this command needs the probe extra: "
        "pip install 'lottery-tui[probe]'\n"
    )
