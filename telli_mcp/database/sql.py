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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

from pydantic import SecretStr

from telli_mcp.database.url import is_postgres_url, redacted_url
from telli_mcp.local_db import open_local_db, write_transaction

if TYPE_CHECKING:
    import psycopg

__all__ = ["POSTGRES", "SQLITE", "Dialect", "PostgresSession", "Rows", "SqlSession", "SqliteSession", "open_session"]

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
        return self.connection.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        return self.connection.executemany(sql, rows).rowcount

    def executescript(self, script: str) -> None:
        self.connection.executescript(script)

    def transaction(self) -> Any:
        return write_transaction(self.connection)

    def close(self) -> None:
        self.connection.close()


class PostgresSession:
    """The shared PostgreSQL database over one synchronous psycopg connection in autocommit mode (see the module
    docstring for why synchronous). The schema is brought up to date (`migrations.migrate`) on first connect."""

    dialect: Dialect = POSTGRES

    def __init__(self, url: SecretStr | str, *, connect_timeout: float = 5.0) -> None:
        import psycopg

        self._url = url if isinstance(url, SecretStr) else SecretStr(url)
        self.label = redacted_url(self._url.get_secret_value())
        self._connect_timeout = connect_timeout
        self._connection: psycopg.Connection[Any] | None = None
        self.integrity_errors: tuple[type[Exception], ...] = (psycopg.IntegrityError,)

    def execute(self, sql: str, params: Params = ()) -> Rows:
        with self._failures_named():
            return self._connected().execute(_translated(sql), params or None)

    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        batch = list(rows)
        if not batch:
            return 0
        with self._failures_named():
            cursor = self._connected().cursor()
            cursor.executemany(_translated(sql), batch)
            return cursor.rowcount

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._failures_named(), self._connected().transaction():
            yield

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _connected(self) -> psycopg.Connection[Any]:
        import psycopg

        connection = self._connection
        if connection is not None and not connection.closed and not connection.broken:
            return connection
        if connection is not None and connection.info.transaction_status != psycopg.pq.TransactionStatus.UNKNOWN:
            connection.close()
        from telli_mcp.database.migrations import migrate

        self._connection = psycopg.connect(
            self._url.get_secret_value(), autocommit=True, connect_timeout=max(2, round(self._connect_timeout))
        )
        migrate(self._connection)
        return self._connection

    @contextmanager
    def _failures_named(self) -> Iterator[None]:
        import psycopg

        from telli_mcp.database.postgres import unavailable

        try:
            yield
        except psycopg.errors.TransactionRollback:
            raise  # a deadlock or serialisation failure: the database answered, and the caller's write did not happen
        except psycopg.OperationalError as err:
            raise unavailable(self._url, self.label, err) from None


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
