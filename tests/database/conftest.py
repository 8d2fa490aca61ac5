"""The database tests: the same store tests against SQLite and against a real PostgreSQL (`postgres_url`)."""

from __future__ import annotations

import pytest
from postgres_helpers import postgres_url  # noqa: F401  # the fixture, for the tests here


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # psycopg's async connections run on asyncio
