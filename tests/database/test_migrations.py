"""Schema migrations: applied once, under an advisory lock, however many processes start at once."""

from __future__ import annotations

from typing import Any

import anyio
import psycopg
import pytest

from telli_mcp.database import MIGRATIONS, Migration, SchemaLockTimeout, migrate
from telli_mcp.database.migrations import LOCK_KEY

pytestmark = pytest.mark.anyio


async def _connect(url: str) -> psycopg.AsyncConnection[Any]:
    return await psycopg.AsyncConnection.connect(url, autocommit=True)


async def _versions(url: str) -> list[int]:
    async with await _connect(url) as connection:
        cursor = await connection.execute("SELECT version FROM telli_mcp_schema ORDER BY version")
        return [row[0] for row in await cursor.fetchall()]


async def _tables(url: str) -> set[str]:
    async with await _connect(url) as connection:
        cursor = await connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        return {row[0] for row in await cursor.fetchall()}


async def test_a_new_database_gets_every_migration_once_and_a_second_start_applies_nothing(postgres_url: str) -> None:
    async with await _connect(postgres_url) as connection:
        first = await migrate(connection)
        second = await migrate(connection)
    assert first == [migration.version for migration in MIGRATIONS]
    assert second == []
    assert await _versions(postgres_url) == first
    assert {"telli_mcp_schema", "spent_tokens"} <= await _tables(postgres_url)


async def test_processes_starting_at_once_migrate_exactly_once(postgres_url: str) -> None:
    # Not idempotent on purpose: a second run of these statements fails, so two migrators would be noticed.
    migrations = (
        *MIGRATIONS,
        Migration(90, "a table", ("CREATE TABLE started (replica TEXT)",)),
        Migration(91, "a row", ("INSERT INTO started VALUES ('migrated')",)),
    )
    applied: list[list[int]] = []

    async def start() -> None:
        async with await _connect(postgres_url) as connection:
            applied.append(await migrate(connection, migrations))

    async with anyio.create_task_group() as replicas:
        for _ in range(4):
            replicas.start_soon(start)

    assert sorted(applied, key=len) == [[], [], [], [m.version for m in migrations]]
    assert await _versions(postgres_url) == [m.version for m in migrations]
    async with await _connect(postgres_url) as connection:
        rows = await (await connection.execute("SELECT replica FROM started")).fetchall()
    assert rows == [("migrated",)]


async def test_a_process_waits_for_anothers_migration_at_most_its_limit_and_changes_nothing(
    postgres_url: str,
) -> None:
    async with await _connect(postgres_url) as other:
        await other.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))  # another process, mid-migration
        async with await _connect(postgres_url) as connection:
            with pytest.raises(SchemaLockTimeout, match="another telli-mcp process"):
                await migrate(connection, lock_wait=0.2)
        assert await _tables(postgres_url) == set()
        await other.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    async with await _connect(postgres_url) as connection:
        assert await migrate(connection) == [migration.version for migration in MIGRATIONS]


async def test_a_failed_migration_leaves_neither_half_a_schema_nor_the_lock(postgres_url: str) -> None:
    broken = (*MIGRATIONS, Migration(90, "broken", ("CREATE TABLE half (x INT)", "SELECT no_such_function()")))
    async with await _connect(postgres_url) as connection:
        with pytest.raises(psycopg.errors.UndefinedFunction):
            await migrate(connection, broken)
    assert await _tables(postgres_url) == set()  # the good migrations of the same run rolled back too
    async with await _connect(postgres_url) as connection:
        assert await migrate(connection, lock_wait=0.2) == [migration.version for migration in MIGRATIONS]
