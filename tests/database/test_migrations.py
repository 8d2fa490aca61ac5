"""Schema migrations: applied once, under an advisory lock, however many processes start at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from telli_mcp.database import MIGRATIONS, Migration, SchemaLockTimeout, migrate
from telli_mcp.database.migrations import LOCK_KEY


def _connect(url: str) -> psycopg.Connection[Any]:
    return psycopg.Connection.connect(url, autocommit=True)


def _versions(url: str) -> list[int]:
    with _connect(url) as connection:
        return [row[0] for row in connection.execute("SELECT version FROM telli_mcp_schema ORDER BY version")]


def _tables(url: str) -> set[str]:
    with _connect(url) as connection:
        rows = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        return {row[0] for row in rows}


def test_a_new_database_gets_every_migration_once_and_a_second_start_applies_nothing(postgres_url: str) -> None:
    with _connect(postgres_url) as connection:
        first = migrate(connection)
        second = migrate(connection)
    assert first == [migration.version for migration in MIGRATIONS]
    assert second == []
    assert _versions(postgres_url) == first
    assert {"telli_mcp_schema", "spent_tokens", "campaigns", "leads", "do_not_call", "events"} <= _tables(postgres_url)


def test_processes_starting_at_once_migrate_exactly_once(postgres_url: str) -> None:
    # Not idempotent on purpose: a second run of these statements fails, so two migrators would be noticed.
    migrations = (
        *MIGRATIONS,
        Migration(90, "a table", ("CREATE TABLE started (replica TEXT)",)),
        Migration(91, "a row", ("INSERT INTO started VALUES ('migrated')",)),
    )

    def start(_: int) -> list[int]:
        with _connect(postgres_url) as connection:
            return migrate(connection, migrations)

    with ThreadPoolExecutor(max_workers=4) as replicas:
        applied = list(replicas.map(start, range(4)))

    assert sorted(applied, key=len) == [[], [], [], [m.version for m in migrations]]
    assert _versions(postgres_url) == [m.version for m in migrations]
    with _connect(postgres_url) as connection:
        assert connection.execute("SELECT replica FROM started").fetchall() == [("migrated",)]


def test_a_process_waits_for_anothers_migration_at_most_its_limit_and_changes_nothing(postgres_url: str) -> None:
    with _connect(postgres_url) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))  # another process, mid-migration
        with _connect(postgres_url) as connection, pytest.raises(SchemaLockTimeout, match="another telli-mcp process"):
            migrate(connection, lock_wait=0.2)
        assert _tables(postgres_url) == set()
        other.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    with _connect(postgres_url) as connection:
        assert migrate(connection) == [migration.version for migration in MIGRATIONS]


def test_a_failed_migration_leaves_neither_half_a_schema_nor_the_lock(postgres_url: str) -> None:
    broken = (*MIGRATIONS, Migration(90, "broken", ("CREATE TABLE half (x INT)", "SELECT no_such_function()")))
    with _connect(postgres_url) as connection, pytest.raises(psycopg.errors.UndefinedFunction):
        migrate(connection, broken)
    assert _tables(postgres_url) == set()  # the good migrations of the same run rolled back too
    with _connect(postgres_url) as connection:
        assert migrate(connection, lock_wait=0.2) == [migration.version for migration in MIGRATIONS]
