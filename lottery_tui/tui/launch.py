"""Start the explorer from `lottery` with no command, and leave nothing behind when it ends."""

from __future__ import annotations


def open_explorer(
    db: str | None,
    *,
    reference: str = "imagenet",
    source: str | None = None,
    pretraining: str | None = None,
    protocol: str | None = None,
) -> int:
    """Run the explorer on store `db` (read-only) against `reference`, its statistics over the
    models from `source` (None: all), models of `pretraining` and `protocol` only (None: any);
    return its exit code.

    Textual is imported here, not at module level, so `lottery --help` stays instant.
    """
    from lottery_tui.tui.app import LotteryApp

    app = LotteryApp(
        db=db, reference=reference, source=source, pretraining=pretraining, protocol=protocol
    )
    app.run()
    return app.return_code or 0
