"""Campaign status from telli's webhook events: the same counts, outcomes and notable leads as reading telli, with
no telli request for the leads events settle, and a read of telli whenever events cannot be trusted.

The oracle is telli itself: each test asks the same page twice, once from events and once from telli (the
simulator, its events delivered signed through the real receiver), and the two must agree.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from campaign_event_fixtures import (  # noqa: F401 (fixtures, offered by pytest under their names)
    ACCOUNT,
    account_fixture,
    engine_fixture,
    sim_fixture,
    store_fixture,
)

from telli_mcp.campaign_events import StoredCampaignEvents
from telli_mcp.campaigns import CampaignEngine, CampaignRequest, CampaignStatusReport
from telli_mcp.simulator import Account, ScriptedOutcome, TelliSimulator
from telli_mcp.simulator.webhooks import WebhookFault, WebhookFaultKind
from telli_mcp.webhooks import EventStore

pytestmark = pytest.mark.anyio

STATE_READS = ("/v1/get-contacts-batch", "/v1/list-calls")
OUTCOMES: list[ScriptedOutcome] = ["APPOINTMENT", "CALLBACK", "CALLBACK", "COMPLETED", "COMPLETED", "NOT_REACHED"]


@pytest.fixture
def events(store: EventStore) -> StoredCampaignEvents:
    return StoredCampaignEvents(store, ACCOUNT)


def leads(count: int) -> list[dict[str, object]]:
    return [{"first_name": f"Lead{n}", "last_name": "Test", "phone": f"+49 30 555 0{100 + n}"} for n in range(count)]


async def start(
    engine: CampaignEngine, account: Account, campaign_id: str = "spring", outcomes: list[ScriptedOutcome] = OUTCOMES
) -> list[str]:
    """Start a campaign whose calls end as `outcomes` (row n gets outcomes[n-1]); its contact ids."""
    agent_id = next(agent.id for agent in account.agents.values() if agent.title == "Sales Agent (DE)")
    request = CampaignRequest(agent_id=agent_id, leads=leads(len(OUTCOMES)), campaign_id=campaign_id, max_retry_days=1)
    await engine.start(request)
    contact_ids = [lead.contact_id or "" for lead in engine.ledger.leads(campaign_id)]
    for contact_id, outcome in zip(contact_ids, outcomes, strict=True):
        account.script_outcomes(contact_id, [outcome])
    return contact_ids


def seen(report: CampaignStatusReport) -> tuple[object, ...]:
    """Everything a user sees of a page, but where its data came from."""
    notable = [(n.row, n.kind, n.name, n.detail, n.contact_id) for n in report.notable]
    return report.contacts.model_dump(), report.outcomes.model_dump(), notable, report.progress_percent


async def both_ways(
    engine: CampaignEngine, sim: TelliSimulator, events: StoredCampaignEvents, campaign_id: str = "spring"
) -> tuple[CampaignStatusReport, CampaignStatusReport, int]:
    """The page from events, the page from telli, and how many state reads the events page sent."""
    engine.contact_cache.clear()
    before = len(sim.request_log)
    from_events = await engine.status(campaign_id, limit=50, events=events)
    reads = sum(1 for entry in sim.request_log[before:] if entry.path in STATE_READS)
    engine.contact_cache.clear()
    return from_events, await engine.status(campaign_id, limit=50), reads


async def test_after_the_dialer_ran_events_give_telli_s_answer_without_asking_telli(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, store: EventStore, events: StoredCampaignEvents
) -> None:
    store.mark_receiving(ACCOUNT)
    await start(engine, account)
    await sim.advance(timedelta(days=7))

    from_events, from_telli, reads = await both_ways(engine, sim, events)

    assert reads == 0
    assert seen(from_events) == seen(from_telli)
    assert from_events.contacts.reached == 5 and from_events.outcomes.appointment == 1  # the dialer did run
    assert "webhook events" in from_events.freshness and "telli was not read" in from_events.freshness
    assert "read from telli" in from_telli.freshness


async def test_a_scheduled_lead_is_pending_until_an_event_says_otherwise(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, store: EventStore, events: StoredCampaignEvents
) -> None:
    store.mark_receiving(ACCOUNT)
    await start(engine, account)

    from_events, from_telli, reads = await both_ways(engine, sim, events)

    assert reads == 0
    assert from_events.contacts.pending == len(OUTCOMES)
    assert seen(from_events) == seen(from_telli)


async def test_duplicated_reordered_and_retried_deliveries_change_nothing(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, store: EventStore, events: StoredCampaignEvents
) -> None:
    store.mark_receiving(ACCOUNT)
    for kind in [WebhookFaultKind.DUPLICATE, WebhookFaultKind.REORDER, WebhookFaultKind.DROP] * 4:
        sim.webhooks.inject(WebhookFault(kind))
    await start(engine, account)
    await sim.advance(timedelta(days=7))

    from_events, from_telli, reads = await both_ways(engine, sim, events)

    assert reads == 0
    assert seen(from_events) == seen(from_telli)


async def test_an_earlier_campaign_s_calls_do_not_count_for_a_later_one_of_the_same_people(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, store: EventStore, events: StoredCampaignEvents
) -> None:
    store.mark_receiving(ACCOUNT)
    first = await start(engine, account, "spring")
    await sim.advance(timedelta(days=7))
    again = await start(engine, account, "autumn", outcomes=["COMPLETED"] * len(OUTCOMES))

    scheduled = await both_ways(engine, sim, events, "autumn")
    await sim.advance(timedelta(days=7))
    done = await both_ways(engine, sim, events, "autumn")

    assert again == first  # the same people, whose spring calls (an appointment, callbacks) are in the store
    for from_events, from_telli, reads in (scheduled, done):
        assert reads == 0
        assert seen(from_events) == seen(from_telli)
    assert scheduled[0].contacts.pending == len(OUTCOMES) and scheduled[0].notable == []
    assert done[0].contacts.reached == len(OUTCOMES)
    assert done[0].outcomes.appointment == done[0].outcomes.callback_requested == 0


async def test_a_campaign_that_began_before_events_arrived_reads_telli_and_says_why(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, events: StoredCampaignEvents
) -> None:
    await start(engine, account)  # the first event arrives only once a call ends
    await sim.advance(timedelta(days=7))

    from_events, from_telli, reads = await both_ways(engine, sim, events)

    assert reads > 0
    assert seen(from_events) == seen(from_telli)
    assert "began before this server received the account's events" in from_events.freshness


async def test_a_day_without_events_reads_telli_and_points_at_the_webhook_portal(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, store: EventStore
) -> None:
    store.mark_receiving(ACCOUNT)
    await start(engine, account)
    await sim.advance(timedelta(days=7))
    two_days_later = StoredCampaignEvents(store, ACCOUNT, wall=lambda: datetime.now(UTC) + timedelta(days=2))

    from_events, from_telli, reads = await both_ways(engine, sim, two_days_later)

    assert reads > 0
    assert seen(from_events) == seen(from_telli)
    assert "no event arrived in the last day" in from_events.freshness


async def test_a_stopped_campaign_reads_telli_only_for_leads_no_event_settled(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, store: EventStore, events: StoredCampaignEvents
) -> None:
    store.mark_receiving(ACCOUNT)
    await start(engine, account)
    await engine.stop("spring")

    from_events, from_telli, _reads = await both_ways(engine, sim, events)

    assert seen(from_events) == seen(from_telli)
    assert from_events.contacts.pending == 0


async def test_a_contact_deleted_through_this_server_counts_as_missing_as_telli_would_say(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, store: EventStore, events: StoredCampaignEvents
) -> None:
    store.mark_receiving(ACCOUNT)
    contact_ids = await start(engine, account)
    await sim.advance(timedelta(days=7))
    await engine.client.contacts_v1.delete(contact_ids[0])
    store.forget_contact(ACCOUNT, contact_ids[0])  # what delete_contact does beside telli's delete

    from_events, from_telli, reads = await both_ways(engine, sim, events)

    assert reads == 0
    assert from_events.contacts.missing == 1
    assert seen(from_events) == seen(from_telli)


async def test_another_account_s_events_say_nothing_about_this_account_s_contacts(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, store: EventStore
) -> None:
    store.mark_receiving(ACCOUNT)
    contact_ids = await start(engine, account)
    await sim.advance(timedelta(days=7))
    since = dict.fromkeys(contact_ids, datetime.now(UTC) - timedelta(days=30))

    other = StoredCampaignEvents(store, "acct-b")

    assert len(StoredCampaignEvents(store, ACCOUNT).of_contacts(since)) == len(contact_ids)
    assert other.of_contacts(since) == {}
    assert other.coverage(datetime.now(UTC)) is None
