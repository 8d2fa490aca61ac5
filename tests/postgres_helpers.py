"""The PostgreSQL the tests use: the one `.ci/run` starts (`.ci/postgres.sh`), named by TELLI_MCP_TEST_DATABASE_URL.

Every test that needs it takes the `postgres_url` fixture: a URL of that server whose connections see a schema of
their own (created for the test, dropped after it), so tests never see each other's tables. Without a server
the test is skipped, saying how to start one; in CI (CI=true) a missing server fails the test instead.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

__all__ = ["TEST_DATABASE_VARIABLE", "fresh_schema", "postgres_url", "server_url"]

TEST_DATABASE_VARIABLE = "TELLI_MCP_TEST_DATABASE_URL"
_SERVER_URL = os.environ.get(TEST_DATABASE_VARIABLE, "").strip()
"""Read at import: every test runs with the TELLI_* variables removed (tests/conftest.py)."""
_START_ONE = "`source .ci/postgres.sh && start_postgres` starts a throwaway one (Debian's postgresql package)"


def _missing(reason: str) -> None:
    message = f"needs PostgreSQL: {reason}; {_START_ONE}, or set {TEST_DATABASE_VARIABLE}"
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(f"{message} (.ci/run starts one: in CI a missing server is a failure, not a skip)")
    pytest.skip(message)


def server_url() -> str:
    """The test server's URL (reachable), or skip/fail the test saying why not."""
    if not _SERVER_URL:
        _missing(f"{TEST_DATABASE_VARIABLE} is not set")
    try:
        import psycopg
    except ImportError:
        _missing("psycopg is not installed (pip install -e '.[dev]')")
    try:
        psycopg.connect(_SERVER_URL, connect_timeout=5, autocommit=True).close()
    except psycopg.OperationalError as err:
        _missing(f"the server at {TEST_DATABASE_VARIABLE} does not answer ({str(err).strip().splitlines()[0]})")
    return _SERVER_URL


def _with_search_path(url: str, schema: str) -> str:
    parts = urlsplit(url)
    option = "options=" + quote(f"-csearch_path={schema}")
    query = f"{parts.query}&{option}" if parts.query else option
    return urlunsplit(parts._replace(query=query))


@contextmanager
def fresh_schema(server: str) -> Iterator[str]:
    """A URL of the server at `server` whose connections use a new, empty schema (dropped on exit)."""
    import psycopg

    schema = f"test_{secrets.token_hex(6)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield _with_search_path(server, schema)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL of the test server whose connections use a new, empty schema (dropped after the test)."""
    with fresh_schema(server_url()) as url:
        yield url
