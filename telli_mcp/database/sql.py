"""One way for a store to talk SQL, over a SQLite file or the shared PostgreSQL: the seam that lets the campaign
ledger, the do-not-call list and the event store keep one body of code for both.

A store writes its SQL once, in the dialect both engines share (`?` and `:name` parameters), and asks the
session's `Dialect` for the few fragments that differ. `open_session` picks the engine from where the store lives:
a file path (or ":memory:") is SQLite, a `postgresql://` URL is PostgreSQL.

Why the calls stay synchronous on PostgreSQL too: the stores' callers read and write in plain method calls (a
run's fenced write checks its lease and writes its leads with no await in between, so no cancellation and no other
task can land inside it). Each statement is one round trip to the database, about 0.2 ms on loopback, during which
this process's event loop waits. Where a deployment's database is far away, that wait grows with the distance;
moving these stores onto the async pool is the way out, and is left for when it is measured to matter.

One connection per session: statements of one process never interleave on it (they run on one thread, and
psycopg serialises threads on a connection), and a transaction never spans an await. A connection the server
dropped (a restart, a failover) is replaced on the next statement outside a transaction; inside one, the
failure ends the transaction and reaches the caller as `DatabaseUnavailable`.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

from pydantic import SecretStr

from telli_mcp.database.bounds import Bounds, reconnect_pause
from telli_mcp.database.errors import DatabaseUnavailable, unanswered
from telli_mcp.database.url import is_postgres_url, redacted_url
from telli_mcp.database.watchdog import Watchdog
from telli_mcp.local_db import open_local_db, write_transaction

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "POSTGRES",
    "SQLITE",
    "Dialect",
    "PostgresSession",
    "Rows",
    "SqlSession",
    "SqliteSession",
    "open_session",
    "session_for",
]

Params = Sequence[Any] | Mapping[str, Any]


@dataclass(frozen=True)
class Dialect:
    """The fragments of SQL the two engines spell differently."""

    name: Literal["sqlite", "postgresql"]
    greatest: str
    """The function of the larger of two values (SQLite's scalar MAX, PostgreSQL's GREATEST)."""
    lock_row: str
    """Appended to a SELECT whose rows the transaction goes on to change: SQLite's write transaction already holds
    the file's only write lock; PostgreSQL locks the rows, so a concurrent claim waits instead of reading them stale."""
    no_index_prefix: str
    """Put before a column to keep SQLite's planner off that column's index (PostgreSQL's planner needs no hint)."""

    def unindexed(self, column: str) -> str:
        return f"{self.no_index_prefix}{column}"


SQLITE: Final = Dialect("sqlite", greatest="MAX", lock_row="", no_index_prefix="+")
POSTGRES: Final = Dialect("postgresql", greatest="GREATEST", lock_row=" FOR UPDATE", no_index_prefix="")


class Rows(Protocol):
    """What a statement returns: its rows, and how many rows it changed."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class SqlSession(Protocol):
    """A store's connection to its database."""

    dialect: Dialect
    integrity_errors: tuple[type[Exception], ...]
    """What a violated UNIQUE or PRIMARY KEY raises."""

    def execute(self, sql: str, params: Params = ()) -> Rows: ...

    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        """Run `sql` once per parameter row; the rows changed, in total."""
        ...

    def transaction(self) -> Any:
        """A context manager: the statements inside commit together or not at all (SQLite: BEGIN IMMEDIATE)."""
        ...

    def close(self) -> None: ...

    def now(self) -> datetime:
        """The time every process sharing this database stamps leases and deadlines with (UTC)."""
        ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SqliteSession:
    """A SQLite file (or ":memory:") through the standard library."""

    dialect: Dialect = SQLITE
    integrity_errors: tuple[type[Exception], ...] = (sqlite3.IntegrityError,)

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    @classmethod
    def open(cls, path: str, *, threads: bool = False, timeout: float = 30.0) -> SqliteSession:
        return cls(open_local_db(path, threads=threads, timeout=timeout))

    def execute(self, sql: str, params: Params = ()) -> Rows:
        return self.connection.execute(sql, _without_nul(params))

    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        return self.connection.executemany(sql, map(_without_nul, rows)).rowcount

    def executescript(self, script: str) -> None:
        self.connection.executescript(script)

    def transaction(self) -> Any:
        return write_transaction(self.connection)

    def close(self) -> None:
        self.connection.close()

    def now(self) -> datetime:
        """This machine's clock: every process sharing a SQLite file runs on it."""
        return _utc_now()


class PostgresSession:
    """The shared PostgreSQL database over one synchronous psycopg connection in autocommit mode (see the module
    docstring for why synchronous). The schema is brought up to date (`migrations.migrate`) on its first connect.

    Nothing waits without bound, because a wait here stops this process's event loop: every connection carries the
    `Bounds` (a lock held by a frozen replica, a statement on a silent network, a connect to a host that accepts and
    says nothing all end in `DatabaseUnavailable`); a `Watchdog` ends any exchange the server leaves unanswered
    longer than `Bounds.unanswered` (a server process that stopped trips none of the others); and after a failed
    connect, or an exchange the server left unanswered, the next calls fail at once for a pause that doubles with
    each failure in a row (`bounds.reconnect_pause`) instead of each waiting out the connect timeout again."""

    dialect: Dialect = POSTGRES

    def __init__(
        self,
        url: SecretStr | str,
        *,
        bounds: Bounds | None = None,
        local_clock: Callable[[], datetime] = _utc_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        import psycopg

        self._url = url if isinstance(url, SecretStr) else SecretStr(url)
        self.label = redacted_url(self._url.get_secret_value())
        self._bounds = bounds or Bounds()
        self._local_clock = local_clock
        self._offset: timedelta | None = None
        self._connection: psycopg.Connection[Any] | None = None
        self._migrated = False
        self._monotonic = monotonic
        self._down: tuple[float, DatabaseUnavailable] | None = None
        """Until when calls fail at once, with which error (after a failure: see `_paused`)."""
        self._failures = 0
        """Failed connects and unanswered exchanges in a row."""
        self._watchdog = Watchdog(f"telli-mcp database watchdog ({self.label})")
        self.integrity_errors: tuple[type[Exception], ...] = (psycopg.IntegrityError,)

    def execute(self, sql: str, params: Params = ()) -> Rows:
        with self._exchange() as connection:
            if not params:  # sent as written: psycopg reads `%` as a placeholder only when there are parameters
                return connection.execute(sql)
            return connection.execute(_translated(sql), _without_nul(params))

    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        batch = [_without_nul(row) for row in rows]
        if not batch:
            return 0
        with self._exchange() as connection:
            cursor = connection.cursor()
            cursor.executemany(_translated(sql), batch)
            return cursor.rowcount

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._exchange() as connection, connection.transaction():
            yield

    def close(self) -> None:
        self._drop_connection()
        self._watchdog.stop()

    def now(self) -> datetime:
        """The database server's time, read as this machine's clock plus the offset measured on connecting: replicas
        on several machines stamp and compare leases and settle times on one clock, so a machine whose clock runs
        ahead neither takes a lease over early nor trusts a lead's settle time before it has passed."""
        if self._offset is None:
            self._connected()
        assert self._offset is not None
        return self._local_clock() + self._offset

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    @contextmanager
    def _exchange(self) -> Iterator[psycopg.Connection[Any]]:
        """The connection, for one exchange with the server: a statement, or a transaction with its statements."""
        with self._failures_named():
            connection = self._connected()
            with self._watched(connection, self._bounds.unanswered):
                yield connection

    @contextmanager
    def _watched(self, connection: psycopg.Connection[Any], seconds: float) -> Iterator[None]:
        """End the exchange on `connection` with `DatabaseUnavailable` if the server leaves it unanswered for
        `seconds` (see `watchdog.py`). Each statement inside a transaction gets `seconds` from its start, so a long
        transaction of quick statements (a large do-not-call import) is not cut off; its COMMIT gets what is left of
        the last statement's."""
        import psycopg

        outermost = not self._watchdog.armed
        if outermost:
            self._watchdog.arm(connection.pgconn.socket, seconds)
        else:
            self._watchdog.extend(seconds)
        try:
            yield
        except psycopg.Error:
            if self._watchdog.fired:  # say so, not what the cut looked like
                raise unanswered(self.label, self._watchdog.seconds) from None
            raise
        finally:
            if outermost and self._watchdog.disarm():
                connection.close()  # even if cut off just as the answer came: it is of no further use
                if connection is self._connection:  # a connect that was cut off is paused by `_connected`
                    self._paused(unanswered(self.label, seconds))

    def _connected(self) -> psycopg.Connection[Any]:
        connection = self._connection
        if connection is not None and not connection.closed and not connection.broken:
            return connection
        self._drop_connection()  # a broken connection too: its socket goes now, not when the collector finds it
        if self._down is not None and self._monotonic() < self._down[0]:
            raise self._down[1]
        try:
            self._connection = self._connect()
        except DatabaseUnavailable as err:
            self._paused(err)
            raise
        self._down, self._failures = None, 0
        return self._connection

    def _paused(self, err: DatabaseUnavailable) -> None:
        """After a failure: calls fail at once with `err` for the next pause, which grows while failures go on."""
        self._failures += 1
        self._down = (self._monotonic() + reconnect_pause(self._failures), err)

    def _connect(self) -> psycopg.Connection[Any]:
        import psycopg

        from telli_mcp.database.migrations import SchemaLockTimeout, migrate, patience
        from telli_mcp.database.postgres import unavailable

        try:
            connection = psycopg.connect(self._url.get_secret_value(), autocommit=True, **self._bounds.connect_kwargs())
            bound = self._bounds.unanswered if self._migrated else patience(self._bounds.unanswered)
            try:
                with self._watched(connection, bound):
                    if not self._migrated:
                        migrate(connection)
                        self._migrated = True
                    self._bounds.apply(connection)
                    self._offset = self._measured_offset(connection)
            except BaseException:
                connection.close()
                raise
        except SchemaLockTimeout as err:
            failure = DatabaseUnavailable(f"The database {self.label} is not ready: {err}")
        except psycopg.Error as err:  # any: a malformed URL's error may quote it, password and all
            failure = unavailable(self._url, self.label, err)
        else:
            return connection
        raise failure  # outside the handler: nothing chained carries the original message

    def _measured_offset(self, connection: psycopg.Connection[Any]) -> timedelta:
        """How far the server's clock is ahead of this machine's, taking the round trip's midpoint as the moment the
        server read its clock (good to half a round trip: well under a millisecond on a LAN)."""
        before = self._local_clock()
        row = connection.execute("SELECT clock_timestamp()").fetchone()
        after = self._local_clock()
        assert row is not None
        server: datetime = row[0]
        return server - (before + (after - before) / 2)

    @contextmanager
    def _failures_named(self) -> Iterator[None]:
        import psycopg

        from telli_mcp.database.postgres import unavailable

        try:
            yield
        except psycopg.errors.TransactionRollback:
            raise  # a deadlock or serialisation failure: the database answered, and the caller's write did not happen
        except psycopg.Error as err:
            connection = self._connection
            lost = connection is None or connection.closed or connection.broken
            # An operational error (also a lock or statement that outlived its bound), or any error that took the
            # connection with it (the server ending a session idle in a transaction): the database's failure, not
            # the statement's.
            if not (lost or isinstance(err, psycopg.OperationalError)):
                raise
            raise unavailable(self._url, self.label, err) from None


def _without_nul(params: Params) -> Params:
    """`params` with NUL characters in text replaced by U+FFFD: PostgreSQL's text cannot hold NUL, and a store must
    keep the same text on both engines (a NUL can only come from hostile or broken input anyway)."""
    if isinstance(params, Mapping):
        if any(isinstance(value, str) and "\x00" in value for value in params.values()):
            return {key: _clean(value) for key, value in params.items()}
        return params
    if any(isinstance(value, str) and "\x00" in value for value in params):
        return [_clean(value) for value in params]
    return params


def _clean(value: Any) -> Any:
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


@lru_cache(maxsize=1024)
def _translated(sql: str) -> str:
    """`sql` with SQLite's `?` and `:name` parameters spelled as psycopg's `%s` and `%(name)s` (a literal `%` doubled).
    The stores' statements carry no string literal with these characters; `::` casts are left alone."""
    sql = sql.replace("%", "%%")
    sql = _NAMED.sub(lambda match: f"%({match.group(1)})s", sql)
    return sql.replace("?", "%s")


_NAMED: Final = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def open_session(location: str | SecretStr, *, threads: bool = False, timeout: float = 30.0) -> SqlSession:
    """A session on a file path (or ":memory:": SQLite) or a `postgresql://` URL (PostgreSQL)."""
    raw = location.get_secret_value() if isinstance(location, SecretStr) else location
    if is_postgres_url(raw):
        return PostgresSession(SecretStr(raw))
    return SqliteSession.open(raw, threads=threads, timeout=timeout)


def session_for(
    location: str | Path | SecretStr | SqlSession,
    *,
    sqlite_schema: str = "",
    threads: bool = False,
    timeout: float = 30.0,
) -> tuple[SqlSession, bool]:
    """The session a store kept at `location` works through, and whether the store owns it: one it opens here (from
    a path, ":memory:" or a URL) it closes; a session handed in stays its owner's to close. A SQLite database gets
    the store's tables here (`sqlite_schema`, statements that create only what is missing); PostgreSQL's come from
    the migrations when the session first connects."""
    if isinstance(location, Path):
        location = str(location)
    session, owned = (
        (open_session(location, threads=threads, timeout=timeout), True)
        if isinstance(location, str | SecretStr)
        else (location, False)
    )
    if sqlite_schema and isinstance(session, SqliteSession):
        session.executescript(sqlite_schema)
    return session, owned
