"""Spent confirmation-token nonces: recorded once, by exactly one of any number of racing spenders, in either store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import anyio
import pytest
from relay_helpers import relayed

from telli_mcp.database import Database, DatabaseUnavailable, PostgresSpentTokens, SpentTokens, SqliteSpentTokens
from telli_mcp.database.bounds import Bounds
from telli_mcp.database.spent_tokens import KEPT_AFTER_EXPIRY

pytestmark = pytest.mark.anyio
NOW = 1_900_000_000.0
OpenStore = Callable[[], Awaitable[SpentTokens]]
"""Opens another handle on the same storage: another process, a replica, a restart."""


@pytest.fixture(params=["sqlite", "postgresql"])
async def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[OpenStore]:
    databases: list[Database] = []
    files: list[SqliteSpentTokens] = []

    async def open_sqlite() -> SpentTokens:
        files.append(SqliteSpentTokens(str(tmp_path / "spent-tokens.sqlite3")))
        return files[-1]

    async def open_postgres() -> SpentTokens:
        databases.append(Database(url))
        return PostgresSpentTokens(databases[-1])

    if request.param == "sqlite":
        yield open_sqlite
    else:
        url = request.getfixturevalue("postgres_url")
        yield open_postgres
    for database in databases:
        await database.aclose()
    for file in files:
        file.close()


async def test_a_nonce_is_spent_once_and_stays_spent_after_a_restart(open_store: OpenStore) -> None:
    store = await open_store()
    assert await store.spend("a1b2c3", expires=NOW + 300, now=NOW) is True
    assert await store.spend("a1b2c3", expires=NOW + 300, now=NOW) is False
    restarted = await open_store()
    assert await restarted.spend("a1b2c3", expires=NOW + 300, now=NOW + 1) is False
    assert await restarted.was_spent("a1b2c3") and not await restarted.was_spent("d4e5f6")
    assert await restarted.spend("d4e5f6", expires=NOW + 300, now=NOW) is True


async def test_of_many_processes_spending_one_nonce_at_once_exactly_one_wins(open_store: OpenStore) -> None:
    replicas = [await open_store() for _ in range(4)]
    wins: list[bool] = []

    async def redeem(store: SpentTokens) -> None:
        wins.append(await store.spend("0f0f0f", expires=NOW + 300, now=NOW))

    async with anyio.create_task_group() as racing:
        for store in replicas:
            for _ in range(5):
                racing.start_soon(redeem, store)
    assert sorted(wins) == [False] * 19 + [True]


async def test_nonces_are_purged_only_long_after_their_token_expired(open_store: OpenStore) -> None:
    store = await open_store()
    await store.spend("old", expires=NOW - KEPT_AFTER_EXPIRY - 1, now=NOW - KEPT_AFTER_EXPIRY - 300)
    await store.spend("recent", expires=NOW - 1, now=NOW - 300)
    await store.spend("new", expires=NOW + 300, now=NOW)  # purges what is stale at NOW
    assert not await store.was_spent("old")
    assert await store.was_spent("recent"), "a replica whose clock is behind could still accept this token"
    assert await store.was_spent("new")


async def test_spending_on_a_server_that_stopped_answering_ends_at_the_bound_and_spends_nothing_twice(
    postgres_url: str,
) -> None:
    with relayed(postgres_url) as (url, relay):
        database = Database(url, bounds=Bounds(unanswered=1.0))
        store = PostgresSpentTokens(database)
        assert await store.spend("nonce-before", expires=NOW + 60, now=NOW)
        relay.freeze()  # the server stopped; its machine's kernel still acknowledges

        with anyio.fail_after(10), pytest.raises(DatabaseUnavailable, match="did not answer within 1 s"):
            await store.spend("nonce-frozen", expires=NOW + 60, now=NOW)

        relay.thaw()
        assert not await store.spend("nonce-before", expires=NOW + 60, now=NOW), "still spent"
        assert await store.spend("nonce-after", expires=NOW + 60, now=NOW), "the pool works again"
        await database.aclose()
