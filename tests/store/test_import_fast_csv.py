"""The vectorised predictions CSV reader (issue 19, item 8) gives exactly the table the row-by-row
reader gives for every file it takes, and leaves to it every file it cannot vouch for, so errors
keep their line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from lottery_tui.errors import InputError
from lottery_tui.store import predictions_csv_import as reader
from lottery_tui.store.csvfile import read_input

VAL = "ILSVRC2012_val_{:08d}.JPEG"

PLAIN = {
    "header": "image_id,pred\n" + "".join(f"{VAL.format(i)},{i}\n" for i in range(1, 30)),
    "label, one empty": "image_id,pred,label\n" + "".join(
        f"{VAL.format(i)},{i},{'' if i == 3 else i + 1}\n" for i in range(1, 9)),
    "no header": "".join(f"{VAL.format(i)},{i},{i}\n" for i in range(1, 9)),
    "image_idx, CRLF, spaces, BOM": "\ufeffimage_idx , Pred\r\n" + "".join(
        f" {i} , -{i} \r\n" if i == 1 else f"{i},{i}\r\n" for i in range(0, 9)),
    "no final newline": "file_name,prediction\na.png,1\nb.png,002",
    "leading zeros": "image_id,pred\na.png,0000000000000000000001\n",
    "quoted header (pyarrow's writer)": '"image_id","pred"\na.png,1\nb.png,2\n',
    "other column order, extra column": "x,pred,image\n" + "".join(
        f"{i},{i},{i}.png\n" for i in range(5)),
}  # fmt: skip

SLOW_ONLY = {
    "quoted field": 'image_id,pred\n"a,b.png",1\nc.png,2\n',
    "blank line": "image_id,pred\na.png,1\n\nb.png,2\n",
    "non-ASCII id": "image_id,pred\n\u00e9t\u00e9.png,1\n",
    "plus sign": "image_id,pred\na.png,+1\n",
    "class beyond int16": "image_id,pred\na.png,40000\n",
    "tab in a field": "image_id,pred\na\t.png,1\n",
    "DEL in a field": "image_id,pred\na\x7f.png,1\n",
    "lone carriage return": "image_id,pred\ra.png,1\n",
}


def _both(tmp_path: Path, text: str):
    path = tmp_path / "p.csv"
    path.write_text(text, newline="")
    source = read_input(path)
    return reader._read_fast(source), reader._read_slowly(source)


@pytest.mark.parametrize("case", sorted(PLAIN))
def test_the_fast_reader_gives_the_slow_readers_table(case: str, tmp_path: Path) -> None:
    fast, slow = _both(tmp_path, PLAIN[case])
    assert fast is not None, "a plain file should take the fast path"
    # the same values; the fast path reads them in the widths they are stored in
    assert fast.schema.field("pred").type == reader.NARROW["pred"]
    assert fast.equals(slow.cast(fast.schema)), (fast.to_pydict(), slow.to_pydict())


@pytest.mark.parametrize("case", sorted(SLOW_ONLY))
def test_files_it_cannot_vouch_for_take_the_slow_path(case: str, tmp_path: Path) -> None:
    fast, slow = _both(tmp_path, SLOW_ONLY[case])
    assert fast is None and slow.num_rows >= 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("image_id,pred\na.png,1\nb.png,x\n", "line 3, column pred: not an integer: 'x'"),
        ("image_id,pred\na.png,1\n,2\n", "line 3, column 1: empty image id"),
        ("image_id,pred\na.png,1\nb.png,1,2\n", "line 3, column 3: expected 2 fields, found 3"),
        ("image_id,pred\na.png,1\nb.png,7_0\n", "line 3, column pred: not an integer: '7_0'"),
        ("image_id,pred\na.png,1\nb.png,99999999999999999999\n",
         "line 3, column pred: pred out of range: '99999999999999999999'"),
    ],
)  # fmt: skip
def test_errors_keep_their_line_and_column(text: str, expected: str, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        reader.read_predictions_csv(read_input(path))
    assert str(caught.value) == f"{path}, {expected}"
