"""Entry point of `lottery`: builds the argument parser from one module per command.

Each command module exposes `register(subparsers)`; it imports its heavy dependencies
(duckdb queries, statistics, torch) inside its handler so `lottery --help` stays instant.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from lottery_tui.errors import LotteryError
from lottery_tui.safe_text import TerminalText, safe_text
from lottery_tui.store.pretraining import PRETRAINING, PROTOCOLS

COMMAND_MODULES = (
    "lottery_tui.cli.sql",
    "lottery_tui.cli.catalog",
    "lottery_tui.cli.importing",
    "lottery_tui.cli.imports",
    "lottery_tui.cli.db",
    "lottery_tui.cli.report",
    "lottery_tui.cli.compare",
    "lottery_tui.cli.figure",
    "lottery_tui.cli.probe",
    "lottery_tui.cli.runs",
    "lottery_tui.cli.cache",
    "lottery_tui.cli.serve",
)


def add_db_option(parser: argparse.ArgumentParser, *, top_level: bool = False) -> None:
    """`--db PATH`: the store to use (else $LOTTERY_DB, else the per-user data directory).

    Accepted before or after the command; a sub-command's copy must not reset the
    top-level value, hence SUPPRESS there.
    """
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=None if top_level else argparse.SUPPRESS,
        help="DuckDB store (default: $LOTTERY_DB, else the per-user data directory)",
    )


def nonempty(value: str) -> str:
    """An argument that names something (a source, say): "" would silently mean another thing."""
    if not value.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return value


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or with `argv` naming one, of that command only: building
    every command's parser costs about as much as a small import's own work (argparse looks
    up translations and the terminal's width for each argument)."""
    parser = argparse.ArgumentParser(
        prog="lottery",
        description="Is an ImageNet gain real, or a benchmark-lottery win? "
        "Without a command, opens the explorer.",
    )
    add_db_option(parser, top_level=True)
    parser.add_argument(
        "--reference",
        metavar="DATASET",
        default="imagenet",
        help="explorer only: the reference dataset deltas and verdicts are taken against "
        "(default: imagenet; R changes it in the explorer)",
    )
    parser.add_argument(
        "--source",
        metavar="NAME",
        type=nonempty,
        default=None,
        help="explorer only: compute Rankings, Lottery and Plots over this import source's "
        "models (default: all sources; S changes it in the explorer)",
    )
    for tag, values in (("pretraining", PRETRAINING), ("protocol", PROTOCOLS)):
        parser.add_argument(
            f"--{tag}",
            choices=values,
            default=None,
            help=f"explorer only: show and judge only models of this {tag} (default: any; T "
            "changes it in the explorer)",
        )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = _command_modules()
    named = None if argv is None else _named_command(argv)
    wanted = [m for m in modules if named in command_names(m)] or modules
    for module in wanted:
        module.register(subparsers)
    return parser


def _command_modules() -> list[ModuleType]:
    modules = []
    for name in COMMAND_MODULES:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return modules


def _named_command(argv: Sequence[str]) -> str | None:
    """The word after the top-level options (each takes a value, but -h), where the command
    stands; None for help or `--`."""
    words = iter(argv)
    for word in words:
        if word in ("-h", "--help", "--"):
            return None
        if not word.startswith("-"):
            return word
        if "=" not in word:
            next(words, None)  # the option's value
    return None


class _Names:
    """Stands in for the sub-parsers action (and everything a command module builds on it) to
    learn the names a module registers without building their parsers."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def add_parser(self, name: str, **options: Any) -> _Names:
        self.names += [name, *options.get("aliases", ())]
        return _Names()  # its own sub-commands are not top-level names

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **options: _Names()


def command_names(module: ModuleType) -> list[str]:
    """The commands `module` registers (none known where its `register` needs a real parser:
    then every module registers, as without `argv`)."""
    names = _Names()
    try:
        module.register(names)
    except Exception:  # a register this stand-in cannot follow: build them all
        return []
    return names.names


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    stdout = sys.stdout
    if args.command is not None and stdout.isatty():  # the explorer draws its own screen
        sys.stdout = TerminalText(stdout)  # names from files reach the terminal escaped
    try:
        return _run(args)
    finally:
        sys.stdout = stdout


def _run(args: argparse.Namespace) -> int:
    try:
        if args.command is None:
            from lottery_tui.tui.launch import open_explorer

            return open_explorer(
                db=args.db,
                reference=args.reference,
                source=args.source,
                pretraining=args.pretraining,
                protocol=args.protocol,
            )
        return int(args.func(args) or 0)
    except LotteryError as exc:
        print(f"lottery: error: {one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("lottery: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `lottery ... | head`: the reader has all it wanted
        _silence_stdout()
        return 0
    except ModuleNotFoundError as exc:
        if exc.name not in OPTIONAL_MODULES:
            return _unexpected(exc)
        extra = OPTIONAL_MODULES[exc.name]
        print(
            f"lottery: error: {exc.name} is not installed; this command needs the {extra} "
            f"extra: pip install 'lottery-tui[{extra}]'",
            file=sys.stderr,
        )
        return 2
    except Exception as exc:
        if "duckdb" in sys.modules:  # a query that met a damaged store file: not a bug
            from lottery_tui.store.connection import store_read_failure

            damaged = store_read_failure(exc, args.db)
            if damaged is not None:
                print(f"lottery: error: {one_line(damaged)}", file=sys.stderr)
                return damaged.exit_code
        return _unexpected(exc)


OPTIONAL_MODULES = {
    "torch": "probe",
    "torchvision": "probe",
    "PIL": "probe",
    "submitit": "probe",
    "matplotlib": "figures",
    "textual_serve": "serve",
    "aiohttp": "serve",
}
"""Modules of the optional extras (pyproject.toml), and the extra that brings each."""
DEBUG_ENV = "LOTTERY_DEBUG"


def one_line(exc: BaseException) -> str:
    """The message on one line, escaped: a name or value (in DuckDB's message too) may carry a
    newline or an escape sequence, and neither may reach the terminal."""
    text = " ".join(str(exc).splitlines()).strip()
    return safe_text(text or type(exc).__name__)


def _unexpected(exc: BaseException) -> int:
    """A bug, not bad input: still one line, with the traceback only on request."""
    if os.environ.get(DEBUG_ENV):
        raise exc
    print(
        f"lottery: internal error: {type(exc).__name__}: {one_line(exc)} "
        f"(set {DEBUG_ENV}=1 for the traceback)",
        file=sys.stderr,
    )
    return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())
