"""Spent confirmation tokens: a token's nonce is recorded once, atomically, before its action is taken.

A confirmation token (`telli_mcp.server.tokens`) is good for one action. Its nonce is inserted with
`ON CONFLICT DO NOTHING` and the insert must be the one that wrote the row: of two redeems of one token, in one
process or two, on one replica or two, only the winner acts. Two stores, one interface:

* `SqliteSpentTokens`: a file in the data directory (in memory where the campaign ledger is); processes on one
  machine that share the directory share it. Its statements are short and local, so they run synchronously.
* `PostgresSpentTokens`: the shared database (TELLI_MCP_DATABASE_URL), for replicas on several machines; its
  statements are awaited on the pool without blocking the event loop.

A nonce is kept until well after its token expired (`KEPT_AFTER_EXPIRY`): replicas whose clocks disagree by less
than that cannot accept a token whose nonce was already forgotten.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Protocol

from telli_mcp.local_db import open_local_db, write_transaction

if TYPE_CHECKING:
    from telli_mcp.database.postgres import Database

__all__ = ["KEPT_AFTER_EXPIRY", "PostgresSpentTokens", "SpentTokens", "SqliteSpentTokens"]

KEPT_AFTER_EXPIRY: Final = 3600.0
"""Seconds a spent nonce is kept past its token's expiry, then purged."""
_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS spent_tokens (nonce TEXT PRIMARY KEY, expires_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS spent_tokens_expiry ON spent_tokens (expires_at);
"""
_SQLITE_PURGE = "DELETE FROM spent_tokens WHERE expires_at < ?"
_SQLITE_INSERT = "INSERT INTO spent_tokens (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING"
_POSTGRES_SPEND = (
    # One statement, so one round trip, atomic in autocommit mode: the purge rides along with the insert.
    "WITH purged AS (DELETE FROM spent_tokens WHERE expires_at < %(stale)s) "
    "INSERT INTO spent_tokens (nonce, expires_at) VALUES (%(nonce)s, %(expires)s) ON CONFLICT (nonce) DO NOTHING"
)


class SpentTokens(Protocol):
    """Where spent nonces are recorded."""

    async def spend(self, nonce: str, *, expires: float, now: float) -> bool:
        """Record `nonce` as spent (and forget nonces long expired at `now`); True only for the call that recorded
        it, False when it had been spent before."""
        ...

    async def was_spent(self, nonce: str) -> bool:
        """Whether `nonce` is recorded (a token refused for another reason is reported as used if it was)."""
        ...


class SqliteSpentTokens:
    """Spent nonces in a SQLite file (or in memory)."""

    def __init__(self, path: str) -> None:
        self._db = open_local_db(path, threads=True)
        self._db.executescript(_SQLITE_SCHEMA)

    async def spend(self, nonce: str, *, expires: float, now: float) -> bool:
        with write_transaction(self._db):
            self._db.execute(_SQLITE_PURGE, (now - KEPT_AFTER_EXPIRY,))
            inserted = self._db.execute(_SQLITE_INSERT, (nonce, expires)).rowcount
        return inserted == 1

    async def was_spent(self, nonce: str) -> bool:
        return self._db.execute("SELECT 1 FROM spent_tokens WHERE nonce = ?", (nonce,)).fetchone() is not None

    def close(self) -> None:
        self._db.close()


class PostgresSpentTokens:
    """Spent nonces in the shared PostgreSQL database (the table is created by migration 1)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def spend(self, nonce: str, *, expires: float, now: float) -> bool:
        async with self._database.connection() as connection:
            cursor = await connection.execute(
                _POSTGRES_SPEND, {"stale": now - KEPT_AFTER_EXPIRY, "nonce": nonce, "expires": expires}
            )
            return cursor.rowcount == 1

    async def was_spent(self, nonce: str) -> bool:
        async with self._database.connection() as connection:
            cursor = await connection.execute("SELECT 1 FROM spent_tokens WHERE nonce = %s", (nonce,))
            return await cursor.fetchone() is not None
