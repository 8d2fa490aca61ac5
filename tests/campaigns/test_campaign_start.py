"""Starting campaigns against the simulator: plans, request counts, existing contacts, re-runs."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from pydantic import ValidationError

from telli_mcp.campaigns import (
    CampaignConflictError,
    CampaignEngine,
    CampaignNotLaunchableError,
    CampaignProgress,
    CampaignRequest,
    CampaignState,
    LeadState,
    derive_external_id,
)
from telli_mcp.client import ContactV1Create, TelliClient
from telli_mcp.simulator import Account, Fault, TelliSimulator

from .conftest import ADD_PATH, BOTH_ENGINES, SCHEDULE_PATH, loops_per_contact, make_leads, scheduled_ids

pytestmark = pytest.mark.anyio
LEDGER_ENGINES = BOTH_ENGINES

EXAMPLE = Path(__file__).parents[2] / "examples" / "leads.csv"
FIXTURES = Path(__file__).parent / "fixtures"


async def test_a_plan_reads_but_never_writes(engine: CampaignEngine, sim: TelliSimulator, agent_id: str) -> None:
    plan = await engine.plan(CampaignRequest(agent_id=agent_id, leads=make_leads(7), name="Spring list"))

    assert {entry.method for entry in sim.request_log} == {"GET"}
    assert (plan.launchable, plan.to_schedule, plan.agent_name) == (True, 7, "Sales Agent (DE)")
    assert plan.campaign_id.startswith("spring-list-")
    assert [lead.row for lead in plan.sample] == [1, 2, 3, 4, 5]
    assert plan.request.campaign_id == plan.campaign_id
    assert engine.list().items == []


async def test_a_dry_run_start_returns_the_plan_and_sends_nothing(
    engine: CampaignEngine, sim: TelliSimulator, agent_id: str
) -> None:
    plan = await engine.start(CampaignRequest(agent_id=agent_id, leads=make_leads(3)), dry_run=True)

    assert plan.validation.contacts_count == 3
    assert {entry.method for entry in sim.request_log} == {"GET"}


async def test_the_example_csv_is_valid_against_the_demo_schema_and_runs(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, agent_id: str
) -> None:
    request = CampaignRequest(agent_id=agent_id, leads_file=EXAMPLE, default_region="US")

    result = await engine.start(request)

    assert result.validation.invalid == []
    assert (result.status, result.scheduled_total, result.leads_total) == (CampaignState.COMPLETED, 12, 12)
    anna = account.contact_by_external_id("spring-001")
    assert anna is not None
    assert anna.custom["interests"] == ["voice_ai", "analytics"]
    assert "auto-dialer" in result.dialer_note and "dialer window" in result.dialer_note


async def test_blocking_problems_refuse_the_start_before_any_write(
    engine: CampaignEngine, sim: TelliSimulator, agent_id: str
) -> None:
    messy = CampaignRequest(agent_id=agent_id, leads_file=FIXTURES / "messy_leads.csv", default_region="DE")
    unknown_agent = CampaignRequest(agent_id="00000000-0000-4000-8000-0000000000a1", leads=make_leads(2))

    with pytest.raises(CampaignNotLaunchableError, match="Lieblingsfarbe") as refused:
        await engine.start(messy)
    with pytest.raises(CampaignNotLaunchableError, match="agent '00000000-0000-4000-8000-0000000000a1' does not exist"):
        await engine.start(unknown_agent)
    with pytest.raises(ValidationError, match="agent_id"):
        CampaignRequest(agent_id="no-such-agent", leads=make_leads(2))

    assert refused.value.report.invalid_leads_count == 5
    assert {entry.method for entry in sim.request_log} == {"GET"}


async def test_a_caller_id_must_be_a_number_of_the_account(engine: CampaignEngine, agent_id: str) -> None:
    plan = await engine.plan(CampaignRequest(agent_id=agent_id, leads=make_leads(1), from_number="+4930 9999999"))

    assert plan.blocking_reasons == ["from_number +49309999999 is not a phone number of this telli account"]


async def test_ten_thousand_leads_take_ten_contact_batches_and_two_hundred_schedule_batches(
    engine: CampaignEngine, sim: TelliSimulator, account: Account, agent_id: str
) -> None:
    progress: list[tuple[str, int, int]] = []

    async def on_progress(event: CampaignProgress) -> None:
        progress.append((event.phase, event.done, event.total))

    result = await engine.start(CampaignRequest(agent_id=agent_id, leads=make_leads(10_000)), on_progress=on_progress)

    adds = sim.requests_to("POST", ADD_PATH)
    schedules = sim.requests_to("POST", SCHEDULE_PATH)
    assert len(adds) == math.ceil(10_000 / 1000) == 10
    assert len(schedules) == math.ceil(10_000 / 50) == 200
    assert max(len(entry.body["contacts"]) for entry in schedules) == 50
    assert (result.status, result.scheduled_total, result.contacts_created) == (CampaignState.COMPLETED, 10_000, 10_000)
    assert result.requests.model_dump() == {
        "contact_batches": 10,
        "contact_lookups": 0,
        "verify_batches": 0,
        "schedule_batches": 200,
    }
    campaign_contacts = set(scheduled_ids(sim))
    assert len(campaign_contacts) == 10_000
    loops = loops_per_contact(account)
    assert {loops[contact] for contact in campaign_contacts} == {1}
    assert progress[-1] == ("schedule", 10_000, 10_000)


async def test_a_contact_that_already_exists_is_reused_not_duplicated(
    engine: CampaignEngine, client: TelliClient, sim: TelliSimulator, account: Account, agent_id: str
) -> None:
    leads = make_leads(3)
    existing_id = derive_external_id("+493010000001")
    await client.contacts_v1.add_batch(
        [
            ContactV1Create(
                external_contact_id=existing_id, first_name="Old", last_name="Name", phone_number="+493010000001"
            )
        ]
    )

    result = await engine.start(CampaignRequest(agent_id=agent_id, leads=leads))

    assert (result.contacts_created, result.contacts_existing, result.scheduled_total) == (2, 1, 3)
    assert result.requests.contact_lookups == 1
    assert sum(1 for contact in account.contacts.values() if contact.external_id == existing_id) == 1


async def test_an_external_id_owned_by_another_number_is_never_called(
    engine: CampaignEngine, client: TelliClient, sim: TelliSimulator, agent_id: str
) -> None:
    await client.contacts_v1.add_batch(
        [ContactV1Create(external_contact_id="crm-9", first_name="X", last_name="Y", phone_number="+493077777777")]
    )
    lead = {"first_name": "Anna", "last_name": "Schmidt", "phone": "+493012345678", "external_id": "crm-9"}

    result = await engine.start(CampaignRequest(agent_id=agent_id, leads=[lead]))

    assert result.status is CampaignState.INCOMPLETE
    assert result.failures[0].reason == (
        "external id crm-9 belongs to an existing telli contact with a different phone number; not called"
    )
    assert sim.requests_to("POST", SCHEDULE_PATH) == []


async def test_a_contact_already_in_the_dialer_is_not_scheduled_again(
    engine: CampaignEngine, client: TelliClient, sim: TelliSimulator, agent_id: str
) -> None:
    first = await engine.start(CampaignRequest(agent_id=agent_id, leads=make_leads(2), campaign_id="first"))
    schedules_before = len(sim.requests_to("POST", SCHEDULE_PATH))

    second = await engine.start(CampaignRequest(agent_id=agent_id, leads=make_leads(3), campaign_id="second"))

    assert first.scheduled_total == 2
    assert (second.scheduled_total, second.contacts_existing) == (3, 2)
    new_requests = sim.requests_to("POST", SCHEDULE_PATH)[schedules_before:]
    assert [len(entry.body["contacts"]) for entry in new_requests] == [1]


async def test_a_rerun_after_completion_sends_no_write(
    engine: CampaignEngine, sim: TelliSimulator, agent_id: str
) -> None:
    request = CampaignRequest(agent_id=agent_id, leads=make_leads(60), campaign_id="spring")
    await engine.start(request)
    writes_before = len([entry for entry in sim.request_log if entry.method == "POST"])

    again = await engine.start(request)

    writes = [entry for entry in sim.request_log if entry.method == "POST"][writes_before:]
    assert writes == []
    assert (again.resumed, again.scheduled_now, again.scheduled_before, again.contacts_reused) == (True, 0, 60, 60)
    assert again.status is CampaignState.COMPLETED


async def test_resuming_with_other_leads_or_options_is_refused(
    engine: CampaignEngine, agent_id: str, account: Account
) -> None:
    await engine.start(CampaignRequest(agent_id=agent_id, leads=make_leads(2), campaign_id="spring"))
    other_agent = next(agent.id for agent in account.agents.values() if agent.id != agent_id)

    with pytest.raises(CampaignConflictError, match="different leads"):
        await engine.start(CampaignRequest(agent_id=agent_id, leads=make_leads(3), campaign_id="spring"))
    with pytest.raises(CampaignConflictError, match="agent_id"):
        await engine.start(CampaignRequest(agent_id=other_agent, leads=make_leads(2), campaign_id="spring"))


async def test_a_changed_file_after_the_plan_is_refused(
    engine: CampaignEngine, sim: TelliSimulator, agent_id: str, tmp_path: Path
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("first_name,last_name,phone\nAnna,Schmidt,+493012345678\n")
    plan = await engine.plan(CampaignRequest(agent_id=agent_id, leads_file=path))
    path.write_text("first_name,last_name,phone\nAnna,Schmidt,+493012345678\nBen,Meyer,+493087654321\n")

    with pytest.raises(CampaignConflictError, match="changed since the plan"):
        await engine.start(plan)

    assert sim.requests_to("POST", ADD_PATH) == []


async def test_a_chunk_telli_rejects_fails_its_leads_and_a_rerun_retries_them(
    engine: CampaignEngine, sim: TelliSimulator, agent_id: str
) -> None:
    sim.inject(Fault(method="POST", path=SCHEDULE_PATH, status=400))
    request = CampaignRequest(agent_id=agent_id, leads=make_leads(120), campaign_id="spring")

    first = await engine.start(request)
    second = await engine.start(request)

    assert first.status is CampaignState.INCOMPLETE
    assert first.failed == 50
    assert first.failures[0].reason.startswith("telli did not schedule the call")
    assert (second.status, second.scheduled_now, second.scheduled_total) == (CampaignState.COMPLETED, 50, 120)
    assert set(scheduled_ids(sim, processed_only=True).values()) == {1}
    assert engine.ledger.state_counts("spring").scheduled == 120
    assert [lead.state for lead in engine.ledger.leads("spring")] == [LeadState.SCHEDULED] * 120
