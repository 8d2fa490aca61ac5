"""The do-not-call list in campaigns: the plan names who will not be called, and no schedule request ever names
a number on the list, whether it was on it before the run, was put on it while the run worked, or between a
run and its resume."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from telli_mcp.campaigns import (
    CampaignEngine,
    CampaignProgress,
    CampaignRequest,
    CampaignState,
    LeadState,
    Ledger,
    RunOptions,
)
from telli_mcp.campaigns.ledger import LedgerLocation
from telli_mcp.campaigns.scheduling import DO_NOT_CALL
from telli_mcp.campaigns.store import IN_MEMORY, CampaignStore
from telli_mcp.client import TelliClient, key_fingerprint
from telli_mcp.do_not_call import DO_NOT_CALL_REASON, DoNotCallList, TenantList
from telli_mcp.simulator import TEST_API_KEY, Account, Fault, TelliSimulator

from .conftest import (
    ADD_PATH,
    BOTH_ENGINES,
    SCHEDULE_PATH,
    fictional_leads,
    loops_per_contact,
    make_leads,
    no_sleep,
    scheduled_ids,
)

pytestmark = pytest.mark.anyio
LEDGER_ENGINES = BOTH_ENGINES

TENANT = key_fingerprint(TEST_API_KEY)


class Killed(BaseException):
    """The process dying in the middle of a run (not an Exception: nothing may catch it)."""


@pytest.fixture
def lists() -> Iterator[DoNotCallList]:
    opened = DoNotCallList(IN_MEMORY)
    yield opened
    opened.close()


@pytest.fixture
def dnc(lists: DoNotCallList) -> TenantList:
    """The list of the test key's account."""
    return lists.for_tenant(TENANT)


def _engine(
    client: TelliClient, ledger_path: LedgerLocation, dnc: TenantList, options: RunOptions | None = None
) -> CampaignEngine:
    return CampaignEngine(client, Ledger(ledger_path), options=options, dial_block=dnc)


def _numbers(*indexes: int) -> list[str]:
    """E.164 of `make_leads`' leads at `indexes` (+49 30 1xxxxxxx)."""
    return [f"+4930{10000000 + index}" for index in indexes]


def _contacts_of(engine: CampaignEngine, campaign_id: str, numbers: list[str]) -> set[str]:
    return {lead.contact_id or "" for lead in engine.ledger.leads(campaign_id) if lead.e164 in numbers}


def test_the_campaigns_refuse_with_the_same_words_as_every_dial_path() -> None:
    assert DO_NOT_CALL == DO_NOT_CALL_REASON


async def test_the_dry_run_counts_names_and_leaves_out_the_listed_leads_and_sends_nothing(
    client: TelliClient, ledger_path: LedgerLocation, dnc: TenantList, sim: TelliSimulator, agent_id: str
) -> None:
    dnc.add(["+49305550101", "+49305550104", "+12125550100", "+49305550199"], reason="asked", source="tool")
    request = CampaignRequest(agent_id=agent_id, leads=fictional_leads(12) + fictional_leads(102)[100:])

    plan = await _engine(client, ledger_path, dnc).plan(request)

    assert (plan.validation.contacts_count, plan.do_not_call, plan.to_schedule) == (14, 3, 11)
    [warning] = [text for text in plan.warnings if "do-not-call" in text]
    assert warning == (
        "3 leads are on the do-not-call list and will not be called: +49305550101, +49305550104, +12125550100"
    )
    assert sim.requests_to("POST", ADD_PATH) == [] and sim.requests_to("POST", SCHEDULE_PATH) == []


async def test_the_warning_names_ten_numbers_and_counts_the_rest(
    engine: CampaignEngine, dnc: TenantList, agent_id: str
) -> None:
    dnc.add([f"+49305550{100 + n}" for n in range(13)], reason=None, source="tool")
    engine.dial_block = dnc

    plan = await engine.plan(CampaignRequest(agent_id=agent_id, leads=fictional_leads(20)))

    [warning] = [text for text in plan.warnings if "do-not-call" in text]
    assert warning.startswith("13 leads are on the do-not-call list and will not be called: +49305550100, ")
    assert warning.endswith(", +49305550109 and 3 more")
    assert "+49305550110" not in warning
    assert plan.to_schedule == 7


async def test_a_run_never_sends_a_listed_number_and_reports_why_it_was_not_called(
    client: TelliClient, dnc: TenantList, sim: TelliSimulator, account: Account, agent_id: str
) -> None:
    listed = _numbers(3, 77, 118)
    dnc.add(listed, reason="asked not to be called", source="tool")
    store = CampaignStore(IN_MEMORY)
    engine = store.engine(client, TENANT, dial_block=dnc)

    result = await engine.start(CampaignRequest(agent_id=agent_id, leads=make_leads(120), campaign_id="spring"))

    blocked = _contacts_of(engine, "spring", listed)
    assert len(blocked) == 3 and not blocked & set(scheduled_ids(sim))
    assert not blocked & set(loops_per_contact(account))
    assert (result.scheduled_total, result.failed, result.do_not_call) == (117, 3, 3)
    assert result.status is CampaignState.INCOMPLETE
    assert sorted((f.phone_number, f.reason) for f in result.failures) == [(n, DO_NOT_CALL) for n in sorted(listed)]
    assert [(r.reason, r.leads) for r in result.not_scheduled_reasons] == [(DO_NOT_CALL, 3)]
    assert "3 not called because they are on the do-not-call list" in result.message
    assert "again to retry" not in result.message  # nothing to retry: a re-run would skip them again
    assert any(text.startswith("3 leads are on the do-not-call list") for text in result.warnings)
    states = {lead.e164: lead.state for lead in engine.ledger.leads("spring")}
    assert [states[number] for number in listed] == [LeadState.FAILED] * 3
    store.close()


async def test_a_number_put_on_the_list_while_the_run_works_is_not_sent(
    client: TelliClient, ledger_path: LedgerLocation, dnc: TenantList, sim: TelliSimulator, agent_id: str
) -> None:
    late = _numbers(140)

    async def list_it_after_the_first_chunk(event: CampaignProgress) -> None:
        if event.phase == "schedule" and event.done == 50:
            dnc.add(late, reason="called in to opt out", source="tool")

    engine = _engine(client, ledger_path, dnc, RunOptions(schedule_concurrency=1))  # one request at a time
    request = CampaignRequest(agent_id=agent_id, leads=make_leads(150), campaign_id="spring")
    result = await engine.start(request, on_progress=list_it_after_the_first_chunk)

    [contact] = _contacts_of(engine, "spring", late)
    assert contact not in scheduled_ids(sim)
    assert (result.scheduled_total, result.do_not_call) == (149, 1)
    assert [(f.phone_number, f.reason) for f in result.failures] == [(late[0], DO_NOT_CALL)]


async def test_a_resume_asks_the_list_again_before_it_sends_anything(
    client: TelliClient,
    ledger_path: LedgerLocation,
    dnc: TenantList,
    sim: TelliSimulator,
    account: Account,
    agent_id: str,
) -> None:
    """Killed after the first chunk; a number of a chunk not yet sent is listed before the resume. The
    resume does not send it; once it is off the list, the next run sends it, once."""

    async def die_after_the_first_chunk(event: CampaignProgress) -> None:
        if event.phase == "schedule" and event.done >= 50:
            raise Killed

    request = CampaignRequest(agent_id=agent_id, leads=make_leads(150), campaign_id="spring")
    engine = _engine(client, ledger_path, dnc, RunOptions(schedule_concurrency=1))
    with pytest.raises(Killed):
        await engine.start(request, on_progress=die_after_the_first_chunk)
    listed = _numbers(120)
    dnc.add(listed, reason=None, source="tool")

    async with TelliClient(TEST_API_KEY, transport=sim.transport(), sleep=no_sleep) as fresh:
        resumed = await _engine(fresh, ledger_path, dnc).start(request)
        still_listed = await _engine(fresh, ledger_path, dnc).start(request)
        [contact] = _contacts_of(engine, "spring", listed)
        assert contact not in scheduled_ids(sim)
        dnc.remove(listed)
        allowed = await _engine(fresh, ledger_path, dnc).start(request)

    assert (resumed.resumed, resumed.scheduled_total, resumed.do_not_call) == (True, 149, 1)
    assert (still_listed.scheduled_now, still_listed.do_not_call) == (0, 1)
    assert (allowed.status, allowed.scheduled_now, allowed.scheduled_total) == (CampaignState.COMPLETED, 1, 150)
    assert scheduled_ids(sim)[contact] == 1
    assert set(scheduled_ids(sim).values()) == {1} and set(loops_per_contact(account).values()) == {1}


async def test_a_lead_telli_rejected_is_checked_against_the_list_before_a_rerun_sends_it_again(
    engine: CampaignEngine, dnc: TenantList, sim: TelliSimulator, agent_id: str
) -> None:
    sim.inject(Fault(method="POST", path=SCHEDULE_PATH, status=400))  # the first chunk fails for good
    engine.dial_block = dnc
    request = CampaignRequest(agent_id=agent_id, leads=make_leads(120), campaign_id="spring")
    first = await engine.start(request)
    listed = _numbers(7)  # in the rejected chunk
    dnc.add(listed, reason=None, source="tool")

    second = await engine.start(request)

    [contact] = _contacts_of(engine, "spring", listed)
    assert first.failed == 50 and contact in scheduled_ids(sim)  # named once, in the request telli rejected
    assert contact not in scheduled_ids(sim, processed_only=True)
    assert (second.scheduled_total, second.failed, second.do_not_call) == (119, 1, 1)


async def test_a_plan_to_resume_says_a_listed_lead_was_scheduled_already_instead_of_counting_it_out(
    engine: CampaignEngine, dnc: TenantList, agent_id: str
) -> None:
    engine.dial_block = dnc
    request = CampaignRequest(agent_id=agent_id, leads=make_leads(12), campaign_id="spring")
    await engine.start(request)
    dnc.add(_numbers(4), reason=None, source="tool")

    plan = await engine.plan(request)

    assert (plan.already_scheduled, plan.do_not_call, plan.to_schedule) == (12, 0, 0)
    [warning] = [text for text in plan.warnings if "do-not-call" in text]
    assert warning.startswith("1 lead on the do-not-call list was scheduled by an earlier run")


async def test_another_accounts_list_blocks_nobody_here(
    client: TelliClient, ledger_path: LedgerLocation, lists: DoNotCallList, sim: TelliSimulator, agent_id: str
) -> None:
    lists.for_tenant("another-account").add(_numbers(0, 1, 2), reason=None, source="tool")
    engine = _engine(client, ledger_path, lists.for_tenant(TENANT))
    request = CampaignRequest(agent_id=agent_id, leads=make_leads(5), campaign_id="spring")

    plan = await engine.plan(request)
    result = await engine.start(request)

    assert (plan.do_not_call, plan.to_schedule) == (0, 5)
    assert (result.status, result.scheduled_total, result.do_not_call) == (CampaignState.COMPLETED, 5, 0)
    assert len(scheduled_ids(sim)) == 5
