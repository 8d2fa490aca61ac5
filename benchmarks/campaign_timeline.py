"""Calls per hour of a 50,000-lead campaign from the webhook event store: SQLite counting vs parsing every event.

Both sides read the same files: a ledger of `--leads` leads sent to the dialer and an event store holding
`--calls` `call_ended` events per lead (bodies shaped like the simulator's, with a transcript), plus as many
events of other contacts. Side A is what the campaign resource does (`campaign_calls_per_hour`); side B counts
the same hours in Python from the parsed events (`StoredCampaignEvents.of_contacts`, which campaign pages use).
Both must give the same counts; the script prints each side's median time and the ratio.

    .venv/bin/python benchmarks/campaign_timeline.py [--leads 50000] [--calls 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from telli_mcp.campaign_events import StoredCampaignEvents
from telli_mcp.campaign_timeline import campaign_calls_per_hour
from telli_mcp.campaigns import Ledger
from telli_mcp.campaigns.ledger import LeadUpdate, NewCampaign
from telli_mcp.campaigns.models import Lead, LeadState
from telli_mcp.webhooks import EventStore, parse_event
from telli_mcp.webhooks.signature import VerifiedDelivery

ACCOUNT = "bench"
ZONE = "Europe/Berlin"
START = datetime(2026, 3, 2, 8, tzinfo=UTC)
TRANSCRIPT = "Agent: Hello, this is telli calling about your enquiry.\nContact: Yes, go on.\n" * 12


def body(contact_id: str, loop_id: str, n: int) -> dict[str, object]:
    ended = START + timedelta(minutes=7 * n)
    return {
        "event": "call_ended",
        "call": {
            "call_id": str(uuid.uuid4()),
            "attempt": 1,
            "contact_id": contact_id,
            "loop_id": loop_id,
            "ended_at": int(ended.timestamp() * 1000),
            "call_status": "COMPLETED",
            "transcript": TRANSCRIPT,
            "call_analysis": {"summary": {"value": True, "details": "Interested; call back next week."}},
        },
        "contact": {"contact_id": contact_id, "status": "reached", "call_attempts": 1},
    }


def build(folder: Path, leads: int, calls: int) -> tuple[Ledger, EventStore]:
    store = EventStore(folder / "events.sqlite3")
    store.mark_receiving(ACCOUNT)  # before the campaign began: events cover it
    ledger = Ledger(folder / "ledger.sqlite3", tenant=ACCOUNT)
    rows = [
        Lead(row=n, phone_number=f"+4930555{n:06d}", first_name="Lead", last_name=str(n), external_id=f"x{n}")
        for n in range(1, leads + 1)
    ]
    record = NewCampaign(id="bench", name="bench", agent_id="a", source="bench", source_sha256="0", leads_count=leads)
    ledger.create_campaign(record, rows)
    sent_at = datetime.now(UTC)
    updates = [
        LeadUpdate(row=n, state=LeadState.SCHEDULED, contact_id=str(uuid.uuid4()), loop_id=f"loop-{n}", sent_at=sent_at)
        for n in range(1, leads + 1)
    ]
    ledger.update_leads("bench", updates)
    delivery = 0
    store._db.execute("BEGIN")  # one transaction for the whole fill (the receiver commits each event)
    for lead in ledger.leads("bench"):
        for n in range(calls):
            for contact_id in (lead.contact_id or "", str(uuid.uuid4())):  # the campaign's, and someone else's
                payload = body(contact_id, lead.loop_id or "", lead.row + n * 97)
                delivery += 1
                sent = VerifiedDelivery(delivery_id=f"msg_{delivery}", sent_at=datetime.now(UTC))
                store.record(ACCOUNT, sent, parse_event(payload), json.dumps(payload))
    store._db.execute("COMMIT")
    return ledger, store


def by_sql(ledger: Ledger, store: EventStore) -> Counter[float]:
    """Hours by their start's epoch seconds: the hour repeated when clocks go back is two hours."""
    timeline = campaign_calls_per_hour(ledger, "bench", store, ACCOUNT, ZONE)
    assert timeline.unavailable is None, timeline.unavailable
    return Counter({entry.hour.timestamp(): entry.calls for entry in timeline.hours})


def by_parsing(ledger: Ledger, store: EventStore) -> Counter[float]:
    since = {lead.contact_id or "": lead.sent_at or lead.updated_at for lead in ledger.leads("bench")}
    counts: Counter[float] = Counter()
    for found in StoredCampaignEvents(store, ACCOUNT).of_contacts(since).values():
        for call in found.calls:
            assert call.ended_at is not None
            local = call.ended_at.astimezone(ZoneInfo(ZONE))
            counts[local.replace(minute=0, second=0, microsecond=0).timestamp()] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=50_000)
    parser.add_argument("--calls", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        ledger, store = build(Path(folder), args.leads, args.calls)
        events = 2 * args.leads * args.calls
        print(f"built {args.leads:,} leads, {events:,} events in {time.perf_counter() - started:.1f} s")
        sql, parsing = [], []
        for _ in range(args.repeats):  # interleaved, so load on the machine hits both sides alike
            started = time.perf_counter()
            counted = by_sql(ledger, store)
            sql.append(time.perf_counter() - started)
            started = time.perf_counter()
            parsed = by_parsing(ledger, store)
            parsing.append(time.perf_counter() - started)
            assert counted == parsed, (sum(counted.values()), sum(parsed.values()))
            assert sum(counted.values()) == args.leads * args.calls, sum(counted.values())
        a, b = statistics.median(sql), statistics.median(parsing)
        print(f"SQL count {a:.2f} s, parsing every event {b:.2f} s: {b / a:.1f}x ({len(counted)} hours)")
        ledger.close()
        store.close()


if __name__ == "__main__":
    main()
