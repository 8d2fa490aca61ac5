"""One PostgreSQL database, shared by every replica: an async connection pool, opened on first use.

Opening connects once directly (so a database that is down answers with its reason, not a pool timeout), brings
the schema up to date (`migrations.migrate`), then opens the pool. Nothing waits without bound: connecting gives
up after `connect_timeout`, waiting for a free connection after `checkout_timeout`, and either ends in
`DatabaseUnavailable`, which names the database by its redacted URL (never its password); so does a statement
the server leaves unanswered for `Bounds.unanswered`. The next use tries again, so a database that comes back is
used again without a restart.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Final

import anyio
from pydantic import SecretStr

from telli_mcp.database.bounds import Bounds
from telli_mcp.database.errors import DatabaseUnavailable, unanswered
from telli_mcp.database.migrations import MIGRATIONS, Migration, migrate, patience
from telli_mcp.database.url import redacted_url
from telli_mcp.database.watchdog import Watchdog

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

__all__ = ["Database", "DatabaseUnavailable", "unavailable"]

CONNECT_TIMEOUT: Final = 5.0
CHECKOUT_TIMEOUT: Final = 10.0
MAX_CONNECTIONS: Final = 10
"""Per process: a replica's statements are short (a nonce, a lease), so a few connections serve many requests."""


class Database:
    """The database at a PostgreSQL URL: `connection()` lends a pooled connection in autocommit mode."""

    def __init__(
        self,
        url: SecretStr | str,
        *,
        migrations: tuple[Migration, ...] = MIGRATIONS,
        bounds: Bounds | None = None,
        checkout_timeout: float = CHECKOUT_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self._url = url if isinstance(url, SecretStr) else SecretStr(url)
        self.label = redacted_url(self._url.get_secret_value())
        """How the database may be named: user@host:port/database."""
        self._migrations = migrations
        self._bounds = bounds or Bounds(connect_timeout=CONNECT_TIMEOUT)
        self._checkout_timeout = checkout_timeout
        self._max_connections = max_connections
        self._pool: AsyncConnectionPool[AsyncConnection[Any]] | None = None
        self._opening = asyncio.Lock()
        self.migrated: list[int] = []
        """The schema versions this process applied when it opened the database (empty: another one had)."""

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        """A connection for a few statements (use `connection.transaction()` for more than one)."""
        from psycopg import OperationalError
        from psycopg_pool import PoolTimeout

        pool = await self._opened()
        try:
            # A server that stopped answering trips none of its own bounds (see `watchdog.py`): this is the bound.
            # anyio, not asyncio.timeout: psycopg answers one cancellation by cancelling the query on the server (5 s
            # more against a stopped one, then 5 s of waiting); anyio cancels again and ends that at once.
            with anyio.fail_after(self._bounds.unanswered):
                async with pool.connection(timeout=self._checkout_timeout) as connection:
                    yield connection
        except (OperationalError, PoolTimeout) as err:
            raise self._unavailable(err) from None
        except TimeoutError:
            raise unanswered(self.label, self._bounds.unanswered) from None

    async def schema_version(self) -> int | None:
        """The newest schema version the database holds (None: no telli-mcp has migrated it yet), read over one
        direct connection that changes nothing: the doctor's look. Raises `DatabaseUnavailable`."""
        from psycopg import AsyncConnection, Error

        try:
            async with await AsyncConnection.connect(self._url.get_secret_value(), **self._options()) as connection:
                cursor = await connection.execute("SELECT to_regclass('telli_mcp_schema') IS NOT NULL")
                found = await cursor.fetchone()
                if found is None or not found[0]:
                    return None
                cursor = await connection.execute("SELECT max(version) FROM telli_mcp_schema")
                newest = await cursor.fetchone()
        except Error as err:
            raise self._unavailable(err) from None
        return None if newest is None or newest[0] is None else int(newest[0])

    async def aclose(self) -> None:
        """Close the pool, if it was opened (the backend calls this when the process ends)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def _opened(self) -> AsyncConnectionPool[AsyncConnection[Any]]:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    self._pool = await self._open()
        return self._pool

    async def _open(self) -> AsyncConnectionPool[AsyncConnection[Any]]:
        from psycopg import Error
        from psycopg_pool import AsyncConnectionPool, PoolTimeout

        from telli_mcp.database.migrations import SchemaLockTimeout

        options = self._options()
        conninfo = self._url.get_secret_value()
        try:
            self.migrated = await asyncio.to_thread(self._migrate, conninfo, options)
        except SchemaLockTimeout as err:
            raise DatabaseUnavailable(f"The database {self.label} is not ready: {err}") from None
        except Error as err:  # any: a malformed URL's error may quote it, password and all
            raise self._unavailable(err) from None
        statement, values = self._bounds.session_statement()

        async def bounded(connection: AsyncConnection[Any]) -> None:
            await connection.execute(statement, values)

        pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            conninfo,
            kwargs=options,
            min_size=1,
            max_size=self._max_connections,
            open=False,
            timeout=self._checkout_timeout,
            configure=bounded,
            # A connection the server dropped (a restart, a failover) is noticed before it is lent, not by a request.
            check=AsyncConnectionPool.check_connection,
            name="telli-mcp",
        )
        try:
            await pool.open(wait=True, timeout=self._checkout_timeout)
        except PoolTimeout as err:
            await pool.close()
            raise self._unavailable(err) from None
        return pool

    def _migrate(self, conninfo: str, options: dict[str, Any]) -> list[int]:
        """Over one direct connection of its own, in a worker thread (migrations are synchronous, see `migrate`),
        bounded like a session's first connect: a stopped server must not hold every request queued behind it."""
        from psycopg import Connection, Error

        watchdog = Watchdog(f"telli-mcp migration watchdog ({self.label})")
        with Connection.connect(conninfo, **options) as first:
            watchdog.arm(first.pgconn.socket, patience(self._bounds.unanswered))
            try:
                return migrate(first, self._migrations)
            except Error:
                if watchdog.fired:
                    raise unanswered(self.label, watchdog.seconds) from None
                raise
            finally:
                watchdog.stop()

    def _options(self) -> dict[str, Any]:
        return {"autocommit": True, **self._bounds.connect_kwargs()}

    def _unavailable(self, err: Exception) -> DatabaseUnavailable:
        return unavailable(self._url, self.label, err)


def unavailable(url: SecretStr, label: str, err: Exception) -> DatabaseUnavailable:
    """`DatabaseUnavailable` for `err`, naming the database by `label`: libpq may quote the connection string it
    could not parse, so the URL and its password are taken out of the reason."""
    reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    secret = url.get_secret_value()
    for hidden in (secret, *_password(secret)):
        reason = reason.replace(hidden, "***")
    return DatabaseUnavailable(f"The database {label} is unreachable: {reason}")


def _password(url: str) -> list[str]:
    """The URL's password as written and decoded (libpq never prints it, but a message is no place to find out)."""
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    return [] if not password else [password, unquote(password)]
