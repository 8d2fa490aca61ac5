"""Replicas behind HAProxy while their database is down: they serve what does not need it, dial nobody, report
what telli did, and use the database again once it is back.

The replicas reach PostgreSQL through a relay in this process (`relay_helpers`); the test turns it off as a
database server going down does: every connection ends and new ones are refused. Through HAProxy, as a user would.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from deployment import SCHEDULE_BATCH, Deployment, call, mcp_client, ok, text_of
from mcp import Client
from relay_helpers import Relay, relayed

from telli_mcp.simulator import TEST_API_KEY, TelliSimulator

pytestmark = pytest.mark.anyio

IDA = {"first_name": "Ida", "last_name": "Roth", "phone_number": "+4930555080"}
MAX = {"first_name": "Max", "last_name": "Brandt", "phone_number": "+4930555081"}
BACK_WITHIN = 40.0
"""Seconds until the replicas use the database again once it is back: their pause after failures (2 s, doubling
while failures go on) plus the calls."""


@pytest.fixture
def database() -> list[Relay]:
    """The relay between the replicas and PostgreSQL (filled in by `postgres_url` below)."""
    return []


@pytest.fixture
def postgres_url(postgres_url: str, database: list[Relay]) -> Iterator[str]:
    """The test database, reached through a relay the test can turn off (the replicas are given this URL)."""
    with relayed(postgres_url) as (url, relay):
        database.append(relay)
        yield url


async def _until_it_works(client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + BACK_WITHIN
    while (result := await call(client, tool, args)).is_error:
        assert time.monotonic() < deadline, f"{tool} still fails after the database came back: {text_of(result)}"
        await anyio.sleep(0.5)  # a bounded poll of other processes' pause; no assertion depends on the wait
    content: dict[str, Any] = result.structured_content or {}
    return content


async def test_while_the_database_is_down_replicas_serve_what_does_not_need_it_and_dial_nobody(
    deployment: Deployment, sim: TelliSimulator, database: list[Relay]
) -> None:
    relay = database[0]
    async with mcp_client(deployment.url, TEST_API_KEY) as client:
        agent_id = (await ok(client, "list_agents"))["agents"][0]["agent_id"]
        ida = (await ok(client, "create_contact", IDA))["contact_id"]
        schedule = {"contact_ids": [ida], "agent_id": agent_id}

        relay.refuse()  # the database goes down
        served = deployment.served()
        listed = [len((await ok(client, "list_agents"))["agents"]) for _ in range(4)]
        by_replica = {name: deployment.served()[name] - count for name, count in served.items()}
        created = await ok(client, "create_contact", MAX)
        refused = [await call(client, "schedule_calls", schedule) for _ in range(2)]
        sent_while_down = len(sim.requests_to("POST", SCHEDULE_BATCH))

        relay.accept()  # and back
        preview = await _until_it_works(client, "schedule_calls", schedule)
        done = await ok(client, "schedule_calls", {**schedule, "confirmation_token": preview["confirmation_token"]})

    assert all(listed) and all(by_replica.values()), f"both replicas served while it was down: {by_replica}"
    made = [c.id for c in sim.account(TEST_API_KEY).live_contacts() if c.phone_number == MAX["phone_number"]]
    assert made == [created["contact_id"]], "created once, and reported created"
    assert all(result.is_error and "database" in text_of(result) for result in refused), [text_of(r) for r in refused]
    assert sent_while_down == 0, "nobody was dialled without the do-not-call list's answer"
    assert done["scheduled_count"] == 1 and len(sim.requests_to("POST", SCHEDULE_BATCH)) == 1, done
