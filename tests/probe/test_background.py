"""The engine's background chunk writer: order, back-pressure, and errors."""

from __future__ import annotations

import threading

import pytest

from lottery_tui.probe.background import BackgroundWriter


def test_writes_run_in_order_and_all_finish() -> None:
    done: list[int] = []
    with BackgroundWriter(depth=2) as writer:
        for k in range(20):
            writer.submit(lambda k=k: done.append(k))
    assert done == list(range(20))


def test_at_most_depth_writes_wait() -> None:
    release = threading.Event()
    started: list[int] = []

    def slow(k: int) -> None:
        started.append(k)
        release.wait(timeout=10)

    with BackgroundWriter(depth=2) as writer:
        writer.submit(lambda: slow(0))
        writer.submit(lambda: slow(1))
        blocked = threading.Thread(target=writer.submit, args=(lambda: slow(2),))
        blocked.start()
        blocked.join(timeout=0.3)
        assert blocked.is_alive()  # a third waits for the first to finish
        release.set()
        blocked.join(timeout=10)
        assert not blocked.is_alive()
    assert started == [0, 1, 2]


def test_a_failed_write_stops_the_run_and_is_raised() -> None:
    done: list[int] = []

    def write(k: int) -> None:
        if k == 1:
            raise OSError(28, "No space left on device")
        done.append(k)

    with pytest.raises(OSError, match="No space left"), BackgroundWriter(depth=3) as writer:
        for k in range(3):
            writer.submit(lambda k=k: write(k))
    assert done == [0]  # nothing after the failure is written


def test_an_error_in_the_main_thread_wins_and_queued_writes_finish() -> None:
    done: list[int] = []
    with pytest.raises(KeyboardInterrupt), BackgroundWriter() as writer:
        writer.submit(lambda: done.append(0))
        raise KeyboardInterrupt
    assert done == [0]
