"""A campaign's calls per hour from telli's webhook events (`telli_mcp.campaign_timeline`).

The oracle is the simulator's own call records: the calls of the campaign's contacts, grouped by the hour their
`ended_at` falls in on the account's clock, counted here in Python, apart from the SQL that counts them in the store.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from campaign_event_fixtures import (  # noqa: F401 (fixtures, offered by pytest under their names)
    ACCOUNT,
    account_fixture,
    engine_fixture,
    sim_fixture,
    store_fixture,
)
from event_store_handles import OpenEvents
from webhook_helpers import CONTACT, call_ended

from telli_mcp.campaign_timeline import NEEDS_EVENTS, CallsPerHour, campaign_calls_per_hour
from telli_mcp.campaigns import CampaignEngine, CampaignNotFoundError, CampaignRequest, Ledger
from telli_mcp.campaigns.ledger import LeadUpdate, NewCampaign
from telli_mcp.campaigns.models import Lead, LeadState
from telli_mcp.client import Call
from telli_mcp.simulator import Account, ScriptedOutcome, TelliSimulator
from telli_mcp.simulator.webhooks import WebhookFault, WebhookFaultKind
from telli_mcp.webhooks import EventStore, parse_event
from telli_mcp.webhooks.signature import VerifiedDelivery
from telli_mcp.webhooks.store import ContactWindow

pytestmark = pytest.mark.anyio

BERLIN = "Europe/Berlin"
OUTCOMES: list[ScriptedOutcome] = ["APPOINTMENT", "CALLBACK", "COMPLETED", "NOT_REACHED", "NOT_REACHED", "VOICEMAIL"]
"""Unreached people are called again on later days: more calls than leads, over many hours."""


def leads(count: int) -> list[dict[str, object]]:
    return [{"first_name": f"Lead{n}", "last_name": "Test", "phone": f"+49 30 555 0{100 + n}"} for n in range(count)]


async def start(
    engine: CampaignEngine, account: Account, campaign_id: str = "spring", outcomes: list[ScriptedOutcome] = OUTCOMES
) -> list[str]:
    """Start a campaign whose leads' calls end as `outcomes`; its contact ids."""
    agent_id = next(agent.id for agent in account.agents.values() if agent.title == "Sales Agent (DE)")
    request = CampaignRequest(agent_id=agent_id, leads=leads(len(outcomes)), campaign_id=campaign_id, max_retry_days=3)
    await engine.start(request)
    contact_ids = [lead.contact_id or "" for lead in engine.ledger.leads(campaign_id)]
    for contact_id, outcome in zip(contact_ids, outcomes, strict=True):
        account.script_outcomes(contact_id, [outcome] * 10)
    return contact_ids


def hour_of(moment: datetime, zone: str) -> datetime:
    """The start of the hour `moment` falls in on `zone`'s clock, as an instant (UTC)."""
    return moment.astimezone(ZoneInfo(zone)).replace(minute=0, second=0, microsecond=0).astimezone(UTC)


def simulator_hours(account: Account, contact_ids: Iterable[str], zone: str) -> Counter[datetime]:
    """The simulator's calls of these contacts, by the hour (on `zone`'s clock) they ended."""
    wanted = set(contact_ids)
    return Counter(hour_of(call.ended_at, zone) for call in account.calls.values() if call.contact_id in wanted)


def shown(timeline: CallsPerHour) -> Counter[datetime]:
    """The timeline's hours as instants: equal local times an hour apart (clocks going back) stay apart."""
    return Counter({entry.hour.astimezone(UTC): entry.calls for entry in timeline.hours})


@pytest.mark.parametrize("zone", [BERLIN, "Asia/Kathmandu", "America/St_Johns"])  # +1/+2, +5:45, -3:30/-2:30
async def test_the_calls_per_hour_are_the_simulator_s_calls_by_the_hour_they_ended(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, store: EventStore, zone: str
) -> None:
    store.mark_receiving(ACCOUNT)
    await sim.advance(
        timedelta(hours=2, minutes=40)
    )  # first calls at 10:40 UTC, past the :15 and :30 where +5:45 and -3:30 hours begin
    contact_ids = await start(engine, account)
    await sim.advance(timedelta(days=4))

    timeline = campaign_calls_per_hour(engine.ledger, "spring", store, ACCOUNT, zone)
    expected = simulator_hours(account, contact_ids, zone)

    assert timeline.unavailable is None and timeline.time_zone == zone
    assert shown(timeline) == expected
    assert len(expected) > 3 and sum(expected.values()) > len(OUTCOMES)  # retries over several hours and days
    assert timeline.calls == sum(expected.values()) and timeline.leads == len(OUTCOMES)
    assert [entry.hour.astimezone(UTC) for entry in timeline.hours] == sorted(expected)
    assert all(entry.hour.tzinfo == ZoneInfo(zone) for entry in timeline.hours)
    assert any(call.ended_at.minute >= 30 for call in account.calls.values() if call.contact_id in contact_ids)


async def test_duplicated_reordered_and_retried_deliveries_count_each_call_once(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, store: EventStore
) -> None:
    store.mark_receiving(ACCOUNT)
    for kind in [WebhookFaultKind.DUPLICATE, WebhookFaultKind.REORDER, WebhookFaultKind.DROP] * 4:
        sim.webhooks.inject(WebhookFault(kind))
    contact_ids = await start(engine, account)
    await sim.advance(timedelta(days=4))

    timeline = campaign_calls_per_hour(engine.ledger, "spring", store, ACCOUNT, BERLIN)

    assert shown(timeline) == simulator_hours(account, contact_ids, BERLIN)


async def test_a_later_campaign_of_the_same_people_counts_only_its_own_calls(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, store: EventStore
) -> None:
    store.mark_receiving(ACCOUNT)
    first = await start(engine, account, "spring")
    await sim.advance(timedelta(days=4))
    spring_calls = set(account.calls)
    again = await start(engine, account, "autumn", outcomes=["COMPLETED"] * len(OUTCOMES))
    await sim.advance(timedelta(days=4))

    spring = campaign_calls_per_hour(engine.ledger, "spring", store, ACCOUNT, BERLIN)
    autumn = campaign_calls_per_hour(engine.ledger, "autumn", store, ACCOUNT, BERLIN)
    autumn_calls = [call for call_id, call in account.calls.items() if call_id not in spring_calls]

    assert again == first
    assert shown(autumn) == Counter(hour_of(call.ended_at, BERLIN) for call in autumn_calls)
    assert autumn.calls == len(OUTCOMES)  # one reached call each
    assert spring.calls + autumn.calls == sum(simulator_hours(account, first, BERLIN).values())


async def test_without_events_the_timeline_says_so_and_shows_no_hour(
    engine: CampaignEngine, sim: TelliSimulator, account: Account
) -> None:
    """The simulator made calls, but no event reached this account's store: no hour is made up."""
    await start(engine, account)
    await sim.advance(timedelta(days=4))
    assert account.calls  # there were calls to show, had events come

    timeline = campaign_calls_per_hour(engine.ledger, "spring", EventStore(":memory:"), ACCOUNT, BERLIN)

    assert timeline.hours == [] and timeline.calls == 0
    assert timeline.unavailable == NEEDS_EVENTS
    assert "TELLI_MCP_WEBHOOK_SECRET" in timeline.unavailable and "call_ended" in timeline.unavailable


async def test_a_campaign_older_than_its_events_shows_no_hour_and_says_why(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, store: EventStore
) -> None:
    """Events began only with the campaign's first ended call: the calls before it might have gone nowhere."""
    await start(engine, account)
    await sim.advance(timedelta(days=4))
    assert len(store.events_after(ACCOUNT, 0)) > 0

    timeline = campaign_calls_per_hour(engine.ledger, "spring", store, ACCOUNT, BERLIN)

    assert timeline.hours == [] and timeline.calls == 0
    assert timeline.unavailable is not None
    assert "began before this server received the account's events" in timeline.unavailable
    assert "TELLI_MCP_WEBHOOK_SECRET" in timeline.unavailable


async def test_events_that_stopped_arriving_show_no_hour(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, store: EventStore
) -> None:
    store.mark_receiving(ACCOUNT)
    await start(engine, account)
    await sim.advance(timedelta(days=4))

    later = campaign_calls_per_hour(
        engine.ledger, "spring", store, ACCOUNT, BERLIN, wall=lambda: datetime.now(UTC) + timedelta(days=2)
    )

    assert later.hours == [] and later.unavailable is not None and "no event arrived" in later.unavailable


async def test_an_unknown_campaign_is_not_found(engine: CampaignEngine, store: EventStore) -> None:
    with pytest.raises(CampaignNotFoundError):
        campaign_calls_per_hour(engine.ledger, "nope", store, ACCOUNT, BERLIN)


# The store keeps when each call ended as the client's Call model reads it, whatever form telli sends it in;
# without it, when the delivery was signed.

SENT = datetime(2030, 1, 1, 12, 7, tzinfo=UTC)
ENDED_FORMS: list[dict[str, Any]] = [
    {"ended_at": 1731957002078},
    {"ended_at": "1731957002078"},
    {"ended_at": "2024-11-18T20:55:02+01:45"},
    {"ended_at": None, "ended_at_iso": "2024-11-18T23:14:02.000Z"},
]


def record(store: EventStore, payload: dict[str, Any], delivery_id: str, sent_at: datetime = SENT) -> None:
    body = json.dumps(payload)
    store.record(ACCOUNT, VerifiedDelivery(delivery_id=delivery_id, sent_at=sent_at), parse_event(payload), body)


def slot_of(payload: dict[str, Any]) -> int:
    ended = Call.model_validate(payload["call"]).ended_at or SENT
    return int(ended.timestamp()) // 900 * 900


@pytest.mark.parametrize("fields", ENDED_FORMS, ids=lambda fields: repr(list(fields.values())))
def test_the_store_counts_a_call_when_it_ended_as_the_client_reads_it(
    fields: dict[str, Any], open_events: OpenEvents
) -> None:
    store = open_events()
    payload = call_ended()
    payload["call"].update(fields)
    record(store, payload, "msg_1")
    window = ContactWindow(payload["call"]["contact_id"], datetime(2000, 1, 1, tzinfo=UTC), None)

    assert store.calls_ended_by_slot(ACCOUNT, [window], 900) == {slot_of(payload): 1}


OLD_EVENTS = """
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, delivery_id TEXT NOT NULL, kind TEXT NOT NULL,
    contact_id TEXT, call_id TEXT, sent_at REAL NOT NULL, received_at REAL NOT NULL, body TEXT NOT NULL,
    UNIQUE (account, delivery_id)
);
"""


def test_a_file_from_before_the_timeline_counts_the_calls_it_already_holds(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    payload = call_ended()
    payload["call"]["loop_id"] = "loop-old"
    with sqlite3.connect(path) as old:
        old.executescript(OLD_EVENTS)
        old.execute(
            "INSERT INTO events (account, delivery_id, kind, contact_id, call_id, sent_at, received_at, body) "
            "VALUES (?, 'msg_old', 'call_ended', ?, ?, ?, ?, ?)",
            (ACCOUNT, CONTACT, payload["call"]["call_id"], SENT.timestamp(), SENT.timestamp(), json.dumps(payload)),
        )
    old.close()
    since = datetime(2000, 1, 1, tzinfo=UTC)

    store = EventStore(path)
    in_its_loop = store.calls_ended_by_slot(ACCOUNT, [ContactWindow(CONTACT, since, "loop-old")], 900)
    in_another = store.calls_ended_by_slot(ACCOUNT, [ContactWindow(CONTACT, since, "loop-new")], 900)
    store.close()
    EventStore(path).close()  # opened again: nothing left to migrate

    assert in_its_loop == {slot_of(payload): 1} and in_another == {}


def test_a_call_delivered_twice_under_two_ids_counts_once_and_other_loops_not_at_all(open_events: OpenEvents) -> None:
    store = open_events()
    mine, other = call_ended("b4a05730-2abc-4eb0-8066-2e4d23b53ba9"), call_ended("0c1f3f4e-0000-4000-8000-000000000001")
    mine["call"]["loop_id"], other["call"]["loop_id"] = "loop-mine", "loop-other"
    record(store, mine, "msg_1")
    record(store, mine, "msg_2")  # the same call again, as a new message
    record(store, other, "msg_3")
    contact = mine["call"]["contact_id"]
    since = datetime(2000, 1, 1, tzinfo=UTC)

    in_my_loop = store.calls_ended_by_slot(ACCOUNT, [ContactWindow(contact, since, "loop-mine")], 900)
    any_loop = store.calls_ended_by_slot(ACCOUNT, [ContactWindow(contact, since, None)], 900)
    elsewhere = store.calls_ended_by_slot("acct-b", [ContactWindow(contact, since, None)], 900)
    too_late = store.calls_ended_by_slot(ACCOUNT, [ContactWindow(contact, datetime.now(UTC), None)], 900)

    assert sum(in_my_loop.values()) == 1 and sum(any_loop.values()) == 2
    assert elsewhere == {} and too_late == {}  # another account's store; events that arrived before `since`


def test_the_hour_repeated_when_clocks_go_back_is_two_hours(open_events: OpenEvents) -> None:
    store = open_events()
    store.mark_receiving(ACCOUNT)
    ledger = Ledger(":memory:", tenant=ACCOUNT)
    lead = Lead(row=1, phone_number="+4930555100", first_name="Lead", last_name="Test", external_id="x1")
    campaign = NewCampaign(id="autumn", name="autumn", agent_id="a", source="test", source_sha256="0", leads_count=1)
    ledger.create_campaign(campaign, [lead])
    contact = call_ended()["call"]["contact_id"]
    update = LeadUpdate(row=1, state=LeadState.SCHEDULED, contact_id=contact, sent_at=datetime.now(UTC))
    ledger.update_leads("autumn", [update])
    for n, ended in enumerate(["2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z", "2026-10-25T02:10:00Z"]):
        payload = call_ended(f"0c1f3f4e-0000-4000-8000-00000000000{n}", contact)
        payload["call"]["ended_at"] = ended
        record(store, payload, f"msg_{n}")

    timeline = campaign_calls_per_hour(ledger, "autumn", store, ACCOUNT, BERLIN)

    hours = [entry["hour"] for entry in timeline.model_dump(mode="json")["hours"]]
    assert hours == ["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00"]
    assert [entry.calls for entry in timeline.hours] == [1, 1, 1]
