"""The shared database: opened on first use, never hanging when it is down, never showing its password."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import anyio
import pytest
from postgres_helpers import server_url
from process_helpers import clean_env

from telli_mcp.database import MIGRATIONS, Database, DatabaseUnavailable
from telli_mcp.database.bounds import Bounds

pytestmark = pytest.mark.anyio
PASSWORD = "s3cret-Passw0rd"
HANG_GUARD = 30.0
"""Seconds of real time before a connection attempt counts as hung (the connect timeout is 2 s)."""


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word (a database host that hangs)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


async def _first_use(database: Database) -> str:
    with anyio.fail_after(HANG_GUARD), pytest.raises(DatabaseUnavailable) as caught:
        async with database.connection() as connection:
            await connection.execute("SELECT 1")
    return str(caught.value)


async def test_a_database_that_is_down_is_named_unreachable_without_its_password(closed_port: int) -> None:
    database = Database(f"postgresql://telli:{PASSWORD}@127.0.0.1:{closed_port}/telli_mcp")
    message = await _first_use(database)
    assert message.startswith(f"The database telli@127.0.0.1:{closed_port}/telli_mcp is unreachable: ")
    assert "refused" in message.lower()
    assert PASSWORD not in message
    await database.aclose()


async def test_a_database_host_that_never_answers_gives_up_instead_of_hanging(silent_port: int) -> None:
    database = Database(
        f"postgresql://telli:{PASSWORD}@127.0.0.1:{silent_port}/telli_mcp", bounds=Bounds(connect_timeout=2)
    )
    message = await _first_use(database)
    assert f"telli@127.0.0.1:{silent_port}/telli_mcp is unreachable" in message and PASSWORD not in message


async def test_a_wrong_password_is_not_repeated_in_the_error() -> None:
    parts = urlsplit(server_url())
    wrong = urlunsplit(parts._replace(netloc=f"postgres:{PASSWORD}@{parts.hostname}:{parts.port}"))
    database = Database(wrong)
    message = await _first_use(database)
    assert "password authentication failed" in message and PASSWORD not in message


async def test_the_first_use_migrates_and_connections_come_from_the_pool(postgres_url: str) -> None:
    database = Database(postgres_url)
    try:
        async with database.connection() as connection:
            cursor = await connection.execute("SELECT count(*) FROM telli_mcp_schema")
            assert (await cursor.fetchone()) == (len(MIGRATIONS),)
        assert database.migrated == [migration.version for migration in MIGRATIONS]
        async with database.connection() as connection:
            await connection.execute("SELECT 1")
    finally:
        await database.aclose()
    again = Database(postgres_url)  # a restart: nothing left to migrate
    async with again.connection():
        pass
    await again.aclose()
    assert again.migrated == []


def test_psycopg_is_not_loaded_unless_a_postgresql_url_is_configured(tmp_path: object) -> None:
    """A server without TELLI_MCP_DATABASE_URL spends a token (in its SQLite file) without importing psycopg."""
    code = (
        "import anyio, sys\n"
        "from telli_mcp.backend import open_backend\n"
        "from telli_mcp.config import Settings\n"
        f"backend = open_backend(Settings(data_dir={str(tmp_path)!r}))\n"
        "async def main():\n"
        "    assert await backend.spent_tokens.spend('n', expires=2e9, now=1e9)\n"
        "anyio.run(main)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('psycopg', 'psycopg_pool')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=clean_env(), check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "[]"
