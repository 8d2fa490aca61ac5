"""The PostgreSQL schema, versioned: each process brings it up to date when it first connects.

Every `Migration` has a version; `telli_mcp_schema(version, applied_at)` records the ones a database has. A
process applies what is missing in one transaction that first takes a transaction-level advisory lock, so when
several replicas start at once exactly one migrates and the others wait, then find nothing left to do. The lock
goes with the transaction (commit, rollback, or the connection dying), so a process killed mid-migration leaves
neither a lock nor half a schema behind. A process waits at most `lock_wait` seconds for another's migration,
then says so instead of hanging.

Why a small table and not Alembic: there is no ORM to generate migrations from, the schema is a handful of
statements, and PostgreSQL runs DDL inside a transaction, so the version table, the lock and the statements are
all a migration needs; Alembic would add SQLAlchemy and a second way of talking to the database for nothing.

Migrations are only ever added (the last step of a rolling upgrade must not break the replicas still running the
previous version): a new version adds tables, columns or indexes. A database migrated by a newer telli-mcp is
used as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from psycopg import AsyncConnection

__all__ = ["LOCK_KEY", "MIGRATIONS", "Migration", "SchemaLockTimeout", "migrate"]

LOCK_KEY: Final = int.from_bytes(b"telli-mc", "big")
"""The advisory lock migrations hold (one 64-bit key for the whole database: one schema per database)."""
LOCK_WAIT_SECONDS: Final = 60.0


@dataclass(frozen=True)
class Migration:
    version: int
    what: str
    statements: tuple[str, ...]


MIGRATIONS: Final = (
    Migration(
        1,
        "spent confirmation-token nonces",
        (
            "CREATE TABLE spent_tokens (nonce TEXT PRIMARY KEY, expires_at DOUBLE PRECISION NOT NULL)",
            "CREATE INDEX spent_tokens_expiry ON spent_tokens (expires_at)",
        ),
    ),
)


class SchemaLockTimeout(Exception):
    """Another process held the migration lock longer than this one would wait."""


async def migrate(
    connection: AsyncConnection[Any],
    migrations: tuple[Migration, ...] = MIGRATIONS,
    *,
    lock_wait: float = LOCK_WAIT_SECONDS,
) -> list[int]:
    """Apply the migrations this database lacks (the connection must be in autocommit mode); the versions
    applied, in order: empty when another process got there first."""
    from psycopg.errors import LockNotAvailable

    async with connection.transaction():
        # set_config(..., true) is SET LOCAL: the limit ends with this transaction and binds the lock wait only.
        await connection.execute("SELECT set_config('lock_timeout', %s, true)", (f"{round(lock_wait * 1000)}ms",))
        try:
            await connection.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        except LockNotAvailable:
            raise SchemaLockTimeout(
                f"another telli-mcp process has been migrating the database schema for more than {lock_wait:g} s; "
                "nothing was changed (start this one again once it is done)"
            ) from None
        await connection.execute("SELECT set_config('lock_timeout', '0', true)")
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS telli_mcp_schema "
            "(version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        cursor = await connection.execute("SELECT version FROM telli_mcp_schema")
        present = {row[0] for row in await cursor.fetchall()}
        pending = sorted((m for m in migrations if m.version not in present), key=lambda m: m.version)
        for migration in pending:
            for statement in migration.statements:
                await connection.execute(statement)
            await connection.execute("INSERT INTO telli_mcp_schema (version) VALUES (%s)", (migration.version,))
    return [migration.version for migration in pending]
