"""TelliClient quickstart, offline: the async telli API client against the in-process simulator.

    python examples/client_quickstart.py

Imports three contacts in one batch, puts them into the auto-dialer with an agent, lets simulated time pass so
the dialer phones them, then reads the resulting calls and one transcript. Against the real API you would
write `TelliClient(os.environ["TELLI_API_KEY"])` and leave out the simulator; everything else stays the same.
Exits non-zero if any step does not behave as described.
"""

from __future__ import annotations

import sys
from datetime import timedelta

import anyio

from telli_mcp.client import CallStatus, ContactV1Create, ScheduleCall, TelliClient
from telli_mcp.simulator import DEMO_API_KEY, TelliSimulator

# Fictional people and numbers (Berlin 030 range used for examples).
LEADS = [
    ContactV1Create(
        external_contact_id="quickstart-1",
        first_name="Ida",
        last_name="Roth",
        phone_number="+493090182001",
        timezone="Europe/Berlin",
    ),
    ContactV1Create(
        external_contact_id="quickstart-2",
        first_name="Jonas",
        last_name="Weber",
        phone_number="+493090182002",
        timezone="Europe/Berlin",
    ),
    ContactV1Create(
        external_contact_id="quickstart-3",
        first_name="Mila",
        last_name="Schulz",
        phone_number="+493090182003",
        timezone="Europe/Berlin",
    ),
]


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"FAILED: {message}")


async def main() -> None:
    # A simulated telli account with demo agents; its clock starts on a Monday at 09:00 Berlin time.
    sim = TelliSimulator(api_keys=(DEMO_API_KEY,), seed_demo=True)
    async with TelliClient(DEMO_API_KEY, transport=sim.transport()) as telli:
        print(f"1. key accepted: {await telli.verify_api_key()} ({telli!r})")

        report = await telli.contacts_v1.add_batch(LEADS)
        check(len(report.succeeded) == len(LEADS), f"batch import: {report.items}")
        contact_ids = [item.contact_id for item in report.succeeded if item.contact_id]
        print(f"2. imported {len(contact_ids)} contacts in {report.requests_sent} request(s)")

        agent = await anext(telli.agents.iterate())
        scheduled = await telli.calls.schedule_batch(
            [ScheduleCall(contact_id=contact_id, agent_id=agent.id) for contact_id in contact_ids]
        )
        check(len(scheduled.succeeded) == len(contact_ids), f"scheduling: {scheduled.items}")
        print(f"3. scheduled {len(scheduled.succeeded)} contacts with agent {agent.title!r}")

        await sim.advance(timedelta(days=1))
        print(f"4. simulated clock advanced one day, now {sim.clock.now().isoformat()}")

        calls = []
        for contact_id in contact_ids:
            contact = await telli.contacts_v1.get(contact_id)
            page = await telli.calls.list(contact_id=contact_id)
            check(bool(page.items), f"the dialer never called {contact.first_name}")
            print(
                f"   {contact.first_name} {contact.last_name}: dialer status {contact.status}, "
                f"{len(page.items)} call(s), last one {page.items[0].call_status}"
            )
            calls.extend(page.items)

        completed = [call for call in calls if call.call_status == CallStatus.COMPLETED]
        check(bool(completed), "no call reached anyone")
        details = await telli.calls.get(completed[0].call_id)
        turns = details.call.transcript_object
        check(bool(turns), "the completed call has no transcript")
        summary = details.call.call_analysis.get("summary")
        print(f"5. transcript of call {details.call.call_id} ({len(turns)} turns):")
        for turn in turns[:4]:
            print(f"   {turn.role}: {turn.content}")
        if summary is not None:
            print(f"   summary: {summary.details}")
    print("OK")


if __name__ == "__main__":
    try:
        anyio.run(main)
    except SystemExit:
        raise
    except Exception as error:  # a crash must still read as a failed example, with its cause
        print(f"FAILED: {type(error).__name__}: {error}", file=sys.stderr)
        raise SystemExit(1) from error
