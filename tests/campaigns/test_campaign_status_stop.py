"""Live status after the dialer has worked, and stopping campaigns (idempotently, even mid-run)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from telli_mcp.campaigns import (
    CampaignEngine,
    CampaignNotFoundError,
    CampaignProgress,
    CampaignRequest,
    CampaignState,
    CampaignStoppedError,
    LeadState,
)
from telli_mcp.simulator import Account, Fault, ScriptedOutcome, TelliSimulator

from .conftest import BOTH_ENGINES, make_leads

pytestmark = pytest.mark.anyio
LEDGER_ENGINES = BOTH_ENGINES

REMOVE_PATH = "/v1/remove-from-auto-dialer-batch"


def repeat(outcome: ScriptedOutcome, count: int) -> list[ScriptedOutcome]:
    return [outcome] * count


OUTCOMES = repeat("APPOINTMENT", 2) + repeat("CALLBACK", 3) + repeat("COMPLETED", 5) + repeat("NOT_REACHED", 5)


async def start_scripted(engine: CampaignEngine, account: Account, agent_id: str) -> list[str]:
    """Start 15 leads whose calls end as OUTCOMES (row n gets OUTCOMES[n-1]); return their contact ids."""
    await engine.start(
        CampaignRequest(agent_id=agent_id, leads=make_leads(len(OUTCOMES)), campaign_id="spring", max_retry_days=1)
    )
    contact_ids = [lead.contact_id or "" for lead in engine.ledger.leads("spring")]
    for contact_id, outcome in zip(contact_ids, OUTCOMES, strict=True):
        account.script_outcomes(contact_id, [outcome])
    return contact_ids


async def test_status_counts_reached_contacts_callbacks_and_appointments_after_the_dialer_ran(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, agent_id: str
) -> None:
    await start_scripted(engine, account, agent_id)
    await sim.advance(timedelta(days=7))

    status = await engine.status("spring", limit=4)

    assert status.contacts.model_dump() == {"new": 0, "pending": 0, "reached": 10, "closed": 5, "missing": 0}
    assert status.progress_percent == 100.0
    assert status.outcomes.model_dump() == {
        "reached": 10,
        "callback_requested": 3,
        "appointment": 2,
        "failed": 5,
        "opted_out": 0,
    }
    assert [(item.row, item.kind) for item in status.notable] == [
        (1, "appointment"),
        (2, "appointment"),
        (3, "callback"),
        (4, "callback"),
    ]
    assert status.notable[0].name == "Lead0 Test"
    assert status.notable[0].detail is not None and status.notable[0].detail.startswith("booked for ")
    assert (status.notable_total, status.next_cursor, status.calls_inspection_capped) == (15, "4", False)


async def test_notable_leads_are_paged_with_the_cursor(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, agent_id: str
) -> None:
    await start_scripted(engine, account, agent_id)
    await sim.advance(timedelta(days=7))

    rows: list[tuple[int, str]] = []
    cursor: str | None = None
    while True:
        page = await engine.status("spring", limit=6, cursor=cursor)
        rows.extend((item.row, item.kind) for item in page.notable)
        cursor = page.next_cursor
        if cursor is None:
            break

    assert [kind for _, kind in rows] == ["appointment"] * 2 + ["callback"] * 3 + ["reached"] * 5 + ["not_reached"] * 5
    assert [row for row, _ in rows] == list(range(1, 16))


async def test_a_capped_inspection_says_its_counts_are_a_lower_bound(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, agent_id: str
) -> None:
    await start_scripted(engine, account, agent_id)
    await sim.advance(timedelta(days=7))
    calls_before = len(sim.requests_to("GET", "/v1/list-calls"))

    status = await engine.status("spring", max_inspected=3)

    assert len(sim.requests_to("GET", "/v1/list-calls")) - calls_before == 3
    assert (status.calls_inspected_contacts, status.calls_inspection_capped) == (3, True)
    assert (status.outcomes.appointment, status.outcomes.callback_requested) == (2, 1)
    assert status.note is not None and "lower bound" in status.note


async def test_status_right_after_the_start_shows_everyone_pending(
    engine: CampaignEngine, account: Account, agent_id: str
) -> None:
    await start_scripted(engine, account, agent_id)

    status = await engine.status("spring")

    assert status.contacts.pending == 15
    assert (status.progress_percent, status.notable, status.campaign.status) == (0.0, [], CampaignState.COMPLETED)


async def test_stop_takes_pending_contacts_off_the_dialer_and_a_second_stop_sends_nothing(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, agent_id: str
) -> None:
    request = CampaignRequest(agent_id=agent_id, leads=make_leads(120), campaign_id="spring")
    await engine.start(request)
    contact_ids = [lead.contact_id or "" for lead in engine.ledger.leads("spring")]

    first = await engine.stop("spring")
    requests_after_first = len(sim.request_log)
    second = await engine.stop("spring")

    assert (first.removed_now, first.already_stopped, first.requests_sent) == (120, 0, 4)
    assert len(sim.requests_to("POST", REMOVE_PATH)) == 3
    assert all(account.active_loop_for(contact_id) is None for contact_id in contact_ids)
    assert len(sim.request_log) == requests_after_first
    assert (second.removed_now, second.already_stopped, second.requests_sent) == (0, 120, 0)
    with pytest.raises(CampaignStoppedError):
        await engine.start(request)
    assert engine.ledger.state_counts("spring").removed == 120


async def test_stop_leaves_finished_contacts_alone(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, agent_id: str
) -> None:
    contact_ids = await start_scripted(engine, account, agent_id)
    await sim.advance(timedelta(hours=2))
    in_dialer = [contact_id for contact_id in contact_ids if account.active_loop_for(contact_id) is not None]

    result = await engine.stop("spring")

    assert len(in_dialer) == 5, "the five unreached leads wait for their retry"
    assert (result.removed_now, result.already_stopped) == (5, 10)
    assert [len(entry.body["contact_ids"]) for entry in sim.requests_to("POST", REMOVE_PATH)] == [5]
    assert sum(1 for contact_id in contact_ids if account.contacts[contact_id].reached_at is not None) == 10


async def test_a_lost_removal_response_is_settled_by_the_next_stop(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, agent_id: str
) -> None:
    await engine.start(CampaignRequest(agent_id=agent_id, leads=make_leads(30), campaign_id="spring"))
    sim.inject(Fault(method="POST", path=REMOVE_PATH, kind="timeout_after"))

    first = await engine.stop("spring")
    second = await engine.stop("spring")

    assert (first.removed_now, first.unknown) == (0, 30)
    assert "run stop again" in first.message
    assert (second.removed_now, second.unknown, second.already_stopped) == (0, 0, 30)
    assert len(sim.requests_to("POST", REMOVE_PATH)) == 1


async def test_a_stop_during_a_run_ends_the_run_and_leaves_no_one_in_the_dialer(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, agent_id: str
) -> None:
    stopped: list[int] = []

    async def stop_after_first_chunk(event: CampaignProgress) -> None:
        if event.phase == "schedule" and not stopped:
            stopped.append((await engine.stop("spring")).removed_now)

    result = await engine.start(
        CampaignRequest(agent_id=agent_id, leads=make_leads(400), campaign_id="spring"),
        on_progress=stop_after_first_chunk,
    )

    contact_ids = [lead.contact_id for lead in engine.ledger.leads("spring") if lead.contact_id]
    assert result.status is CampaignState.STOPPED
    assert stopped and stopped[0] >= 50
    assert len(sim.requests_to("POST", "/v1/schedule-calls-batch")) < 8
    assert all(account.active_loop_for(contact_id) is None for contact_id in contact_ids)
    assert {lead.state for lead in engine.ledger.leads("spring")} == {LeadState.REMOVED}


async def test_unknown_campaigns_are_reported_as_not_found(engine: CampaignEngine) -> None:
    with pytest.raises(CampaignNotFoundError, match="'nope'"):
        await engine.status("nope")
    with pytest.raises(CampaignNotFoundError):
        await engine.stop("nope")


async def test_campaigns_are_listed_newest_first_with_their_counts(engine: CampaignEngine, agent_id: str) -> None:
    await engine.start(CampaignRequest(agent_id=agent_id, leads=make_leads(3), campaign_id="first"))
    await engine.start(CampaignRequest(agent_id=agent_id, leads=make_leads(2, first=10), campaign_id="second"))

    page = engine.list(limit=1)
    rest = engine.list(limit=1, cursor=page.next_cursor)

    assert [(item.campaign_id, item.counts.scheduled) for item in page.items + rest.items] == [
        ("second", 2),
        ("first", 3),
    ]
    assert rest.next_cursor is None
