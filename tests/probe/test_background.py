"""The engine's background chunk writer: order, back-pressure, and errors."""

from __future__ import annotations

import threading

import pytest

from lottery_tui.probe.background import BackgroundWriter


def test_writes_run_in_order_and_all_finish() -> None:
    done: list[int] = []
    with BackgroundWriter(depth=2) as writer:
        for k in range(20):
            writer.submit("a", lambda k=k: done.append(k))
    assert done == list(range(20))


def test_at_most_depth_writes_wait() -> None:
    release = threading.Event()
    started: list[int] = []

    def slow(k: int) -> None:
        started.append(k)
        release.wait(timeout=10)

    with BackgroundWriter(depth=2) as writer:
        writer.submit("a", lambda: slow(0))
        writer.submit("a", lambda: slow(1))
        blocked = threading.Thread(target=writer.submit, args=("a", lambda: slow(2)))
        blocked.start()
        blocked.join(timeout=0.3)
        assert blocked.is_alive()  # a third waits for the first to finish
        release.set()
        blocked.join(timeout=10)
        assert not blocked.is_alive()
    assert started == [0, 1, 2]


def test_a_failed_write_stops_its_owner_alone() -> None:
    """A full disk in one run's write: that run's later writes are skipped, the others' go on,
    and the error waits for the main thread instead of failing every run."""
    done: list[tuple[str, int]] = []

    def write(owner: str, k: int) -> None:
        if owner == "b" and k == 1:
            raise OSError(28, "No space left on device")
        done.append((owner, k))

    with BackgroundWriter(depth=3) as writer:
        for k in range(3):
            for owner in ("a", "b", "c"):
                writer.submit(owner, lambda owner=owner, k=k: write(owner, k))
    assert done == [("a", 0), ("b", 0), ("c", 0), ("a", 1), ("c", 1), ("a", 2), ("c", 2)]
    assert set(writer.errors) == {"b"}
    assert "No space left" in str(writer.failed("b"))
    assert writer.failed("a") is None


def test_an_error_in_the_main_thread_wins_and_queued_writes_finish() -> None:
    done: list[int] = []
    with pytest.raises(KeyboardInterrupt), BackgroundWriter() as writer:
        writer.submit("a", lambda: done.append(0))
        raise KeyboardInterrupt
    assert done == [0]
