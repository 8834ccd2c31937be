"""Messages that workers post: results travel to the UI thread, which alone touches widgets."""

from __future__ import annotations

from typing import Any

from textual.message import Message


def one_line(exc: BaseException) -> str:
    """The first line of an error, prefixed by its kind when the text alone would be vague."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text


class DataLoaded(Message):
    """A worker finished: `key` says what was computed, `value` is the result."""

    def __init__(self, key: str, value: Any) -> None:
        super().__init__()
        self.key = key
        self.value = value


class LoadFailed(Message):
    """A worker failed: `error` is one line to show in place, never a crash."""

    def __init__(self, key: str, error: str) -> None:
        super().__init__()
        self.key = key
        self.error = error
