"""'Did you mean' for unknown model names: the method finds the model, a typo its neighbours,
within the filters given."""

from __future__ import annotations

from pathlib import Path

from lottery_tui.cli.main import main
from lottery_tui.store.suggest import similar_names


def test_a_name_inside_another_comes_first_shortest_first() -> None:
    names = ["resnet50_swav", "resnet50_swsl", "resnet152_swav_long", "vgg11"]
    assert similar_names(names, "swav") == ["resnet50_swav", "resnet152_swav_long"]
    assert similar_names(names, "resnet50_swaw")[:2] == ["resnet50_swav", "resnet50_swsl"]
    assert similar_names(names, "zzzz") == []


def error_of(args: list[str], capsys) -> str:
    code = main(args)
    err = capsys.readouterr().err
    assert code != 0 and err.count("\n") == 1, err
    return err


def test_compare_suggests_the_model_a_method_names(shipped_db: Path, capsys) -> None:
    db = ["--db", str(shipped_db)]
    err = error_of(["compare", "swav", "resnet50_simsiam", *db], capsys)
    assert "no model 'swav'; did you mean resnet50_swav?" in err
    # a name in two sources is suggested as SOURCE:NAME
    err = error_of(["compare", "resnet5", "vgg11", *db], capsys)
    assert "analysing-relations:resnet50 or imagenet-testbed:resnet50" in err


def test_suggestions_stay_within_the_filters(shipped_db: Path, capsys) -> None:
    db = ["--db", str(shipped_db)]
    err = error_of(["compare", "swav", "vgg11", "--protocol", "fine-tuned", *db], capsys)
    assert "swav" not in err.split("no model 'swav'")[1]


def test_nothing_close_keeps_the_general_hint(shipped_db: Path, capsys) -> None:
    err = error_of(["compare", "qqqqqqqq", "vgg11", "--db", str(shipped_db)], capsys)
    assert "no model 'qqqqqqqq' (write SOURCE:NAME" in err
