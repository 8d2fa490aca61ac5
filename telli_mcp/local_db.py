"""Open one of this machine's SQLite files (campaign ledger, do-not-call list, webhook events, contact index).

One rule for all of them, because they all hold personal data (names, phone numbers, what people said): a file
is created readable by its owner only (0600), in a directory created for its owner only (0700); SQLite gives
the `-wal` and `-shm` files the database file's permissions. A directory or file that exists keeps the
permissions its owner gave it. On disk the journal is a write-ahead log, so readers do not block the writer.
`:memory:` opens a throw-away database (the sandbox, tests).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import sqlite3

__all__ = ["IN_MEMORY", "open_local_db", "write_transaction"]

IN_MEMORY: Final = ":memory:"
_OWNER_ONLY_DIR: Final = 0o700
_OWNER_ONLY_FILE: Final = 0o600


def _create_private(path: Path) -> None:
    path.parent.mkdir(mode=_OWNER_ONLY_DIR, parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, _OWNER_ONLY_FILE)
    except FileExistsError:
        return
    os.close(descriptor)


def open_local_db(path: str | Path, *, threads: bool = False, timeout: float = 10.0) -> sqlite3.Connection:
    """The database at `path` in autocommit mode (statements open their own transactions); `threads`: the
    connection may be used from other threads (a worker thread of the event loop)."""
    import sqlite3  # here: the server starts without it (the import budget), the backend needs only IN_MEMORY

    name = str(path)
    if name != IN_MEMORY:
        _create_private(Path(name))
    connection = sqlite3.connect(name, isolation_level=None, check_same_thread=not threads, timeout=timeout)
    if name != IN_MEMORY:
        connection.execute("PRAGMA journal_mode = WAL")
    return connection


@contextmanager
def write_transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """One transaction that holds the write lock from its start (BEGIN IMMEDIATE), so two processes writing the
    same file wait for each other instead of one failing halfway; rolled back on any error or cancellation."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
