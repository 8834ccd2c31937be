"""`lottery COMMAND ...` builds the parser of COMMAND only (issue 19, item 8: building all of
them cost about a tenth of a one-file import): it must parse every command line exactly as the
parser of every command does."""

from __future__ import annotations

import argparse

import pytest

from lottery_tui.cli import main as cli

COMMAND_LINES = [
    ["import", "predictions", "p.csv", "--model", "m", "--dataset", "imagenet"],
    ["--db", "s.duckdb", "import", "results", "a.csv", "--map", "x=imagenet", "--db", "t"],
    ["--source=timm", "--reference", "imagenet-r", "report"],
    ["--pretraining", "supervised", "models"],
    ["same", "resnet50"],
    ["datasets"],
    ["sql", "SELECT 1"],
    ["imports"],
    ["db", "info"],
    [],
]


def test_each_module_names_the_commands_it_registers() -> None:
    for module in cli._command_modules():
        real = argparse.ArgumentParser().add_subparsers()
        module.register(real)
        assert cli.command_names(module) == list(real.choices), module.__name__
        assert cli.command_names(module), module.__name__  # the stand-in followed it


@pytest.mark.parametrize("argv", COMMAND_LINES, ids=" ".join)
def test_the_command_alone_parses_like_every_command(argv: list[str]) -> None:
    alone, every = cli.build_parser(argv), cli.build_parser()
    assert vars(alone.parse_args(argv)) == vars(every.parse_args(argv))
    named = cli._named_command(argv)
    subparsers = next(a for a in alone._actions if isinstance(a, argparse._SubParsersAction))
    if named is not None:  # only that command's module registered
        module = next(m for m in cli._command_modules() if named in cli.command_names(m))
        assert list(subparsers.choices) == cli.command_names(module)


@pytest.mark.parametrize("argv", [["--help"], ["--db", "x", "-h"], ["--", "x"], ["nonsense"]])
def test_help_and_unknown_words_build_every_command(argv: list[str]) -> None:
    subparsers = next(
        a for a in cli.build_parser(argv)._actions if isinstance(a, argparse._SubParsersAction)
    )
    every = [name for m in cli._command_modules() for name in cli.command_names(m)]
    assert list(subparsers.choices) == every


def test_every_top_level_option_but_help_takes_a_value() -> None:
    """What `_named_command` assumes to step over the top-level options."""
    for action in cli.build_parser()._actions:
        if action.option_strings and not isinstance(action, argparse._HelpAction):
            assert action.nargs is None, action.option_strings
