"""Opening the store: create it on first use, check its schema version, wait briefly on locks.

DuckDB lets one read-write process or many read-only processes hold a file. Readers (the explorer,
`lottery sql`) open read-only; writers use `write_transaction`, which holds the file only for one
all-or-nothing transaction.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from lottery_tui.errors import (
    SchemaVersionError,
    StoreLockedError,
    StoreOpenError,
    StoreWriteError,
)
from lottery_tui.processes import pid_alive
from lottery_tui.store.input_files import non_regular_kind, non_utf8_name
from lottery_tui.store.models import TAG_RULES_KEY, stamp_current
from lottery_tui.store.paths import default_db_path, resolve_db_path
from lottery_tui.store.schema import SCHEMA_VERSION, migrate
from lottery_tui.store.write_intent import (
    announce_writer,
    pid_files,
    wait_for_writers,
)

LOCK_RETRY_SECONDS = 3.0
_DUCKDB_MAGIC = (8, b"DUCK")
"""Where a DuckDB file says what it is: DuckDB would otherwise take any other file (a SQLite
database, say) for a foreign format and try to install an extension to read it."""
_LOCK_POLL_SECONDS = 0.1
CHECKPOINT_ON_COMMIT = "0KB"
"""A writer's `checkpoint_threshold`, set as it opens: a commit larger than this checkpoints at
once (see `write_transaction`)."""
_PID_RE = re.compile(r"PID (\d+)")


def connect(
    db: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = True,
    retry_seconds: float = LOCK_RETRY_SECONDS,
) -> duckdb.DuckDBPyConnection:
    """Open the store at `db` (see `resolve_db_path`), building it from `data/` if it is missing.

    Raises `StoreLockedError` naming the holder's PID when another process keeps the file locked
    for longer than `retry_seconds`, and `SchemaVersionError` for a store this version cannot use.
    """
    path = resolve_db_path(db)
    _check_path(path)
    kind = non_regular_kind(path)
    if kind is not None:  # DuckDB would block on a FIFO or read a device forever
        raise StoreOpenError(f"{path}: cannot open the store: it is {kind}, not a regular file")
    if not path.exists():
        _build_default(path)
    _check_header(path)
    remove_stale_builds(path)
    if read_only:
        wait_for_writers(path, retry_seconds)
    con = _open_with_retry(path, read_only=read_only, retry_seconds=retry_seconds)
    try:
        version, tagged_by = _stamps(con, path)
        if version == SCHEMA_VERSION and stamp_current(tagged_by):
            return con  # else tagged by older rules: "migrate" within the version to re-tag
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"{path}: store has schema version {version}, newer than this lottery-tui "
                f"understands ({SCHEMA_VERSION}); upgrade lottery-tui or use another --db"
            )
        if read_only:
            con.close()
            _migrate_file(path, retry_seconds)
            return _open_with_retry(path, read_only=True, retry_seconds=retry_seconds)
        _migrate(con, version, path)
        return con
    except BaseException:
        con.close()
        raise


@contextlib.contextmanager
def write_transaction(
    db: str | os.PathLike[str] | None = None, *, retry_seconds: float = LOCK_RETRY_SECONDS
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection inside one transaction: committed on success, rolled back on error.

    Every import goes through here, so an import either lands whole or not at all, and the file
    lock is released as soon as the block ends. The commit checkpoints (writers open with
    `checkpoint_threshold` CHECKPOINT_ON_COMMIT): the changes go into the store file instead of
    the WAL for the close to copy over, one write of the rows instead of two.
    """
    con = connect(db, read_only=False, retry_seconds=retry_seconds)
    try:
        con.begin()
        try:
            yield con
        except BaseException:
            con.rollback()
            raise
        try:
            con.commit()
        except duckdb.Error as exc:  # DuckDB keeps the store as it was before the transaction
            with contextlib.suppress(duckdb.Error):
                con.close()  # a failed checkpoint leaves the database unusable
            raise StoreWriteError(
                f"{resolve_db_path(db)}: cannot write the store (nothing was changed): "
                f"{_first_line(exc)}"
            ) from None
    finally:
        con.close()


def _open_with_retry(
    path: Path, *, read_only: bool, retry_seconds: float
) -> duckdb.DuckDBPyConnection:
    """Poll until the file opens; a writer kept out announces itself (`write_intent`), so
    readers step aside instead of keeping it out for good."""
    deadline = time.monotonic() + retry_seconds
    config = {} if read_only else {"checkpoint_threshold": CHECKPOINT_ON_COMMIT}
    with contextlib.ExitStack() as waiting:
        announced = False
        while True:
            try:
                return duckdb.connect(str(path), read_only=read_only, config=config)
            except duckdb.Error as exc:
                message = str(exc)
                if not isinstance(exc, duckdb.IOException) or "lock" not in message.lower():
                    raise StoreOpenError(
                        f"{path}: cannot open the store (is it a DuckDB file?): {_first_line(exc)}"
                    ) from None
                if time.monotonic() >= deadline:
                    pid = _PID_RE.search(message)
                    holder = f"process {pid.group(1)}" if pid else "another process"
                    mode = "read" if read_only else "write to"
                    raise StoreLockedError(
                        f"{path}: cannot {mode} the store: {holder} holds its lock "
                        f"(waited {retry_seconds:.0f} s); try again when it has finished"
                    ) from exc
                if not read_only and not announced:
                    waiting.enter_context(announce_writer(path))
                    announced = True
                time.sleep(_LOCK_POLL_SECONDS)


def _stamps(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[int, str | None]:
    """The store's schema version, and the tag rules its models were tagged by (None: none),
    in one query: every command opens the store."""
    try:
        stamps = dict(
            con.execute(
                "SELECT key, value FROM meta WHERE key IN ('schema_version', $tags)",
                {"tags": TAG_RULES_KEY},
            ).fetchall()
        )
    except duckdb.CatalogException:
        stamps = {}
    except duckdb.Error as exc:  # the first read of its tables: a truncated or corrupt file
        raise _damaged(path, exc) from None
    if "schema_version" not in stamps:
        raise SchemaVersionError(
            f"{path}: not a lottery-tui store (no schema version); use another --db path"
        )
    version = stamps["schema_version"]
    try:
        return int(version), stamps.get(TAG_RULES_KEY)
    except (TypeError, ValueError):
        raise SchemaVersionError(
            f"{path}: damaged store: its schema version {version!r} is not a number; "
            "rebuild it or use another --db path"
        ) from None


def _check_path(path: Path) -> None:
    """Refuse, before anything is created, a path DuckDB cannot take (a file name that is not
    UTF-8), a store under something that is not a folder, or an explicit store whose folder is
    missing (its folder moved away: a fresh store there would silently take the next import)."""
    shown = non_utf8_name(path)
    if shown is not None:
        raise StoreOpenError(
            f"{shown}: cannot open the store: the path is not valid UTF-8 (DuckDB needs UTF-8 "
            "file names); rename it or use another --db"
        )
    for folder in path.parents:
        if folder.exists():
            if not folder.is_dir():
                raise StoreOpenError(
                    f"{path}: cannot open the store: {folder} is a file, not a folder"
                )
            break
    if not path.parent.is_dir() and path.absolute() != default_db_path().absolute():
        raise StoreOpenError(
            f"{path}: cannot open the store: folder {path.parent} does not exist: "
            "create it, or give another --db"
        )


def _migrate_file(path: Path, retry_seconds: float) -> None:
    con = _open_with_retry(path, read_only=False, retry_seconds=retry_seconds)
    try:
        _migrate(con, _stamps(con, path)[0], path)
    finally:
        con.close()


def store_read_failure(
    exc: BaseException, db: str | os.PathLike[str] | None
) -> StoreOpenError | None:
    """The one-line error for a DuckDB error raised by reading the store file itself after it
    opened (a checksum mismatch: a flipped bit; a short read: a truncated file), which any query
    of any command can meet; None for any other error."""
    if not isinstance(exc, duckdb.Error):
        return None
    path = resolve_db_path(db)
    text = str(exc)
    short_read = isinstance(exc, duckdb.IOException) and str(path.absolute()) in text
    return _damaged(path, exc) if short_read or "Corrupt database file" in text else None


def _damaged(path: Path, exc: BaseException) -> StoreOpenError:
    return StoreOpenError(
        f"{path}: cannot read the store (damaged or truncated?): {_first_line(exc)}; "
        "rebuild it or use another --db"
    )


def _migrate(con: duckdb.DuckDBPyConnection, version: int, path: Path) -> None:
    try:
        migrate(con, version)
    except SchemaVersionError as exc:
        raise SchemaVersionError(f"{path}: {exc}") from None


def _check_header(path: Path) -> None:
    offset, magic = _DUCKDB_MAGIC
    try:
        with open(path, "rb") as handle:
            head = handle.read(offset + len(magic))
    except OSError as exc:
        raise StoreOpenError(f"{path}: cannot open the store: {exc.strerror}") from None
    if head[offset:] != magic:
        what = "a SQLite database" if head.startswith(b"SQLite format 3") else "not a DuckDB file"
        raise StoreOpenError(f"{path}: cannot open the store: it is {what}; use another --db")


def remove_stale_builds(path: Path) -> None:
    """Remove what a killed first-use build left: its `.NAME.PID.building` temporary store (with
    its `.wal`) when that PID is gone, and the `NAME.building` lock file once the store exists
    and no builder holds it."""
    for leftover, pid in pid_files(path, ".building"):
        if pid != os.getpid() and not pid_alive(pid):
            with contextlib.suppress(OSError):
                leftover.unlink()
    for wal, pid in pid_files(path, ".building.wal"):
        if pid != os.getpid() and not pid_alive(pid):
            with contextlib.suppress(OSError):
                wal.unlink()
    lock_path = path.with_name(path.name + ".building")
    if path.exists() and lock_path.exists():
        with contextlib.suppress(OSError), open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # OSError: a builder holds it
            lock_path.unlink()


def _build_default(path: Path) -> None:
    """Build the store from the shipped data, once even if several processes start together."""
    from lottery_tui.store.seed import build_store

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = path.with_name(path.name + ".building")
        try:
            with open(lock_path, "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    if not path.exists():
                        build_store(path)  # all or nothing: its temporary file goes on error
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)
        finally:
            with contextlib.suppress(FileNotFoundError):
                lock_path.unlink()
    except (OSError, duckdb.Error) as exc:  # a full disk, a read-only folder
        raise StoreOpenError(
            f"{path}: cannot build the store (nothing was created): {_first_line(exc)}"
        ) from None


def _first_line(exc: BaseException) -> str:
    """What went wrong, on one line: DuckDB's messages run to several, an OSError's reason is
    its strerror."""
    text = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
