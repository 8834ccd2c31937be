"""One key at a time: the next key goes out only when the last one has been dealt with.

Textual forwards each key to the focused widget as soon as it reads it, and a binding acts only
when the key has bubbled back up to the app, by which time the keys after it (one batch over
SSH, `tmux send-keys -l '/vgg'`) were already forwarded to the focus of before: `/vgg` left the
filter empty and ran `v`. Here a key is forwarded only once the one before it was consumed by a
widget (stopped), reached the app's bindings, or was left unanswered for `KEY_TIMEOUT`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from textual import events
from textual.app import App
from textual.message import Message
from textual.screen import Screen

KEY_TIMEOUT = 0.25
"""Seconds after which a key nobody answered (its widget removed meanwhile) lets the next go."""
HOLD_TIMEOUT = 3.0
"""Seconds keys wait at most for a view being built to take them (`SerialKeys.hold`)."""


class SerialKey(events.Key):
    """A key that says when a widget consumed it (`stop`)."""

    __slots__ = ["_on_stop"]

    def __init__(self, key: str, character: str | None, on_stop: Callable[[], None]) -> None:
        super().__init__(key, character)
        self._on_stop = on_stop
        # No sender: Textual stops a message at the sender's child (the screen, for the app's
        # keys), so the key must bubble to the app for its bindings, which then call `finish`.
        self._sender = None

    def stop(self, stop: bool = True) -> Message:
        result = super().stop(stop)
        if stop:
            self._on_stop()
        return result


SerialKey.handler_name = events.Key.handler_name  # handled as a plain key everywhere


class SerialKeys:
    """The app's queue of keys read but not yet given out, and the key in flight."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.pending: deque[events.Key] = deque()
        self.in_flight: SerialKey | None = None
        self._screen: Screen | None = None
        self._timer = None
        self._hold = None

    def read(self, key: events.Key) -> bool:
        """A key from the terminal: queue it. True when it should be given out now."""
        self.pending.append(key)
        return self.in_flight is None and len(self.pending) == 1

    def next_key(self) -> SerialKey | None:
        """The next key to give out, or None (one still in flight, or none left). A key
        that opened a dialog is followed only once the dialog has focused its widget."""
        if self.in_flight is not None or self._hold is not None or not self.pending:
            return None
        screen = self.app.screen
        if screen is not self._screen and screen.focused is None and screen.AUTO_FOCUS:
            self._screen = screen
            self.app.call_after_refresh(self.app.call_next, self._give_next)
            return None
        self._screen = screen
        raw = self.pending.popleft()
        key = SerialKey(raw.key, raw.character, on_stop=lambda: self.finish(key))
        self.in_flight = key
        self._timer = self.app.set_timer(KEY_TIMEOUT, lambda: self.finish(key))
        return key

    def finish(self, key: SerialKey) -> None:
        """`key` was dealt with: give out the next one (on the app's own message queue)."""
        if self.in_flight is not key:
            return
        self.in_flight = None
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.pending:
            self.app.call_next(self._give_next)

    def hold(self) -> None:
        """Keep the keys read from now on until `release`: the view they are meant for is
        being built (at most `HOLD_TIMEOUT`)."""
        if self._hold is None:
            self._hold = self.app.set_timer(HOLD_TIMEOUT, self.release)

    def release(self) -> None:
        if self._hold is None:
            return
        self._hold.stop()
        self._hold = None
        if self.pending:
            self.app.call_next(self._give_next)

    async def _give_next(self) -> None:
        await self.app.give_out_keys()
