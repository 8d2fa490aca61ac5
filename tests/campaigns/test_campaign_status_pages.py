"""Status pages of a large campaign: each reads only its own leads from telli, and what telli said is reused
for a few seconds, never longer."""

from __future__ import annotations

from datetime import timedelta

import pytest

from telli_mcp.campaigns import CampaignEngine, CampaignRequest
from telli_mcp.campaigns.contact_cache import STATE_TTL, ContactCache
from telli_mcp.campaigns.status import WINDOW
from telli_mcp.client import TelliClient
from telli_mcp.simulator import Account, TelliSimulator

from .conftest import BOTH_ENGINES, make_leads

pytestmark = pytest.mark.anyio
LEDGER_ENGINES = BOTH_ENGINES

VERIFY_PATH = "/v1/get-contacts-batch"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def contacts_read(sim: TelliSimulator, since: int) -> list[list[str]]:
    """The contact ids of each get-contacts-batch request after the first `since` log entries."""
    return [entry.body["contact_ids"] for entry in sim.request_log[since:] if entry.path == VERIFY_PATH]


async def test_each_page_reads_only_its_own_leads_from_telli(
    client: TelliClient, sim: TelliSimulator, agent_id: str, engine: CampaignEngine
) -> None:
    await engine.start(CampaignRequest(agent_id=agent_id, leads=make_leads(2 * WINDOW + 500), campaign_id="big"))
    contact_ids = [record.contact_id for record in engine.ledger.leads("big")]

    reads: list[list[str]] = []
    notes: list[str | None] = []
    cursor: str | None = None
    for _ in range(3):
        since = len(sim.request_log)
        page = await engine.status("big", limit=10, cursor=cursor)
        reads.append([contact for batch in contacts_read(sim, since) for contact in batch])
        notes.append(page.note)
        cursor = page.next_cursor

    assert reads == [contact_ids[:WINDOW], contact_ids[WINDOW : 2 * WINDOW], contact_ids[2 * WINDOW :]]
    assert cursor is None
    assert notes[0] is not None and f"rows 1-{WINDOW} of the campaign's {2 * WINDOW + 500}" in notes[0]
    assert page.campaign.counts.scheduled == 2 * WINDOW + 500  # the ledger's counts always cover everyone


async def test_the_next_page_reuses_what_telli_said_and_an_older_answer_is_read_again(
    client: TelliClient, sim: TelliSimulator, account: Account, agent_id: str, engine: CampaignEngine
) -> None:
    await engine.start(CampaignRequest(agent_id=agent_id, leads=make_leads(15), campaign_id="spring"))
    for record, outcome in zip(engine.ledger.leads("spring"), ["COMPLETED"] * 10 + ["NOT_REACHED"] * 5, strict=True):
        account.script_outcomes(record.contact_id or "", [outcome])
    clock = Clock()
    pages = CampaignEngine(client, engine.ledger, contact_cache=ContactCache(clock=clock))

    first = await pages.status("spring", limit=4)
    since = len(sim.request_log)
    await sim.advance(timedelta(days=7))  # the dialer calls everyone meanwhile
    clock.now += STATE_TTL - 0.5
    within_ttl = await pages.status("spring", limit=4)
    requests_within_ttl = len(sim.request_log) - since
    clock.now += 1.0
    refreshed = await pages.status("spring", limit=4)
    since = len(sim.request_log)
    second_page = await pages.status("spring", limit=4, cursor=refreshed.next_cursor)

    assert first.contacts.pending == within_ttl.contacts.pending == 15
    assert requests_within_ttl == 0, "a page within the cache's lifetime reads nothing from telli again"
    assert (refreshed.contacts.reached, refreshed.contacts.closed) == (10, 5), "older answers are read again"
    assert len(sim.request_log) == since, "the next page reuses the contacts and calls the first page read"
    assert [item.row for item in refreshed.notable + second_page.notable] == list(range(1, 9))


async def test_telli_accounts_never_share_cached_contacts() -> None:
    clock = Clock()
    cache = ContactCache(clock=clock)
    cache.put("tenant-a", "c-1", None)

    assert list(cache.fresh("tenant-a", ["c-1"])) == ["c-1"]
    assert cache.fresh("tenant-b", ["c-1"]) == {}
    clock.now += STATE_TTL
    assert cache.fresh("tenant-a", ["c-1"]) == {}
