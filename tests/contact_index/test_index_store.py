"""The index answers every filter of a ContactQuery over what telli holds, with the total, in a stable order."""

from __future__ import annotations

import random
import string
from datetime import timedelta

import pytest
from index_helpers import AddContact

from telli_mcp.client import InitiateCall, ScheduleCall, TelliClient
from telli_mcp.contact_index import ContactQuery, DialerRead, DialerState, TenantIndex, sync_contacts
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator

pytestmark = pytest.mark.anyio


async def _synced(index: TenantIndex, client: TelliClient) -> None:
    report = await sync_contacts(index, client, budget=1000)
    assert report.complete


def _found(index: TenantIndex, **filters: object) -> set[str]:
    ids, total = index.select(ContactQuery.model_validate(filters), limit=1000)
    assert total == len(ids)
    return set(ids)


@pytest.mark.parametrize(
    "typed",
    ["+49 30 5550 1234", "+49-30-555-01234", "0049 30 55501234", "+49 (30) 555 01234", "030 55501234", "3055501234"],
)
async def test_a_phone_number_is_found_however_it_is_typed(
    add: AddContact, client: TelliClient, index: TenantIndex, typed: str
) -> None:
    wanted = add("Jane", "Doe", "+493055501234")
    add("Other", "Person", "+493055501235")
    add("Same", "Ending", "+4940999901234")  # shares the last digits, not the number
    await _synced(index, client)

    assert _found(index, phone=typed) == {wanted}


async def test_a_phone_number_that_is_not_one_is_refused_with_the_reason(index: TenantIndex) -> None:
    for raw, reason in (("jane", "not a phone number"), ("0301", "fewer than 6 digits")):
        with pytest.raises(ValueError, match=reason):
            index.select(ContactQuery(phone=raw), limit=1)


async def test_property_filters_compare_values_as_telli_keeps_them(
    add: AddContact, client: TelliClient, index: TenantIndex
) -> None:
    basic = add("A", "Basic", "+4930555001", custom_merge={"plan": "basic", "seats": 5, "vip": True})
    pro = add("B", "Pro", "+4930555002", custom_merge={"plan": "pro", "seats": "5", "vip": False})
    both = add("C", "Both", "+4930555003", custom_merge={"tags": ["basic", "trial"], "plan": ""})
    bare = add("D", "Bare", "+4930555004")
    await _synced(index, client)

    assert _found(index, property_equals={"plan": "basic"}) == {basic}
    assert _found(index, property_equals={"seats": 5}) == {basic}  # the number, not the text "5"
    assert _found(index, property_equals={"seats": 5.0}) == {basic}
    assert _found(index, property_equals={"seats": "5"}) == {pro}
    assert _found(index, property_equals={"vip": False}) == {pro}
    assert _found(index, property_equals={"tags": "trial"}) == {both}  # a multi-select holds each of its values
    assert _found(index, property_in={"plan": ["basic", "pro", "gold"]}) == {basic, pro}
    assert _found(index, property_empty=["plan"]) == {both, bare}  # empty text counts as empty
    assert _found(index, property_empty=["plan"], property_equals={"tags": "basic"}) == {both}


async def test_dialer_states_come_from_telli_and_a_live_call_is_in_call(
    sim: TelliSimulator, add: AddContact, client: TelliClient, index: TenantIndex
) -> None:
    account = sim.account(TEST_API_KEY)
    agent = account.add_agent("Agent").id
    new, pending, reached, closed, talking = (add(f"P{n}", "Q", f"+493055500{n}") for n in range(5))
    account.script_outcomes(reached, ["COMPLETED"])
    account.script_outcomes(closed, ["NOT_REACHED"])
    await client.calls.initiate(InitiateCall(contact_id=reached, agent_id=agent))
    await client.calls.initiate(InitiateCall(contact_id=closed, agent_id=agent, max_retry_days=0))
    await sim.advance(timedelta(minutes=10))
    await client.calls.initiate(InitiateCall(contact_id=talking, agent_id=agent))
    await client.calls.schedule(ScheduleCall(contact_id=pending, agent_id=agent))
    await _synced(index, client)

    by_state = {state: _found(index, dialer_state=[state]) for state in DialerState}
    assert by_state == {
        DialerState.NEW: {new},
        DialerState.PENDING: {pending},
        DialerState.REACHED: {reached},
        DialerState.CLOSED: {closed},
        DialerState.IN_CALL: {talking},
    }
    assert _found(index, dialer_state=["pending", "in_call"]) == {pending, talking}


async def test_created_and_reached_ranges_include_their_start_and_before_includes_never(
    sim: TelliSimulator, add: AddContact, client: TelliClient, index: TenantIndex
) -> None:
    account = sim.account(TEST_API_KEY)
    agent = account.add_agent("Agent").id
    start = sim.clock.now()
    early = add("Early", "Bird", "+4930555001")
    account.script_outcomes(early, ["COMPLETED"])
    await client.calls.initiate(InitiateCall(contact_id=early, agent_id=agent))
    await sim.advance(timedelta(hours=1))
    middle = sim.clock.now()
    late = add("Late", "Comer", "+4930555002")
    await _synced(index, client)
    reached_at = account.contacts[early].reached_at
    assert reached_at is not None

    assert _found(index, created_after=start, created_before=middle) == {early}
    assert _found(index, created_after=middle) == {late}
    assert _found(index, created_before=start) == set()
    assert _found(index, reached_after=reached_at) == {early}
    assert _found(index, reached_after=reached_at + timedelta(seconds=1)) == set()
    assert _found(index, reached_before=reached_at) == {late}  # never reached
    assert _found(index, last_called_after=start) == {early}
    assert _found(index, last_called_before=reached_at) == {late}  # never called
    assert _found(index, last_called_before=middle) == {early, late}


async def test_newest_first_ties_by_id_and_paging_neither_repeats_nor_skips(
    sim: TelliSimulator, add: AddContact, client: TelliClient, index: TenantIndex
) -> None:
    created = []
    for n in range(30):
        created.append(add(f"P{n}", "Q", f"+49305550{n:03d}"))
        if n % 10 == 9:
            await sim.advance(timedelta(minutes=1))  # three batches created at the same moment
    await _synced(index, client)

    pages = [index.search(ContactQuery(), offset=offset, limit=7) for offset in range(0, 30, 7)]

    seen = [contact.contact_id for page in pages for contact in page.contacts]
    assert {page.total for page in pages} == {30}
    assert len(seen) == 30 and set(seen) == set(created)
    expected = sorted(created, key=lambda cid: (-sim.account(TEST_API_KEY).contacts[cid].seq // 10, cid))
    newest_batch_first = [sorted(expected[i : i + 10]) for i in range(0, 30, 10)]
    assert [sorted(seen[i : i + 10]) for i in range(0, 30, 10)] == newest_batch_first
    assert all(seen[i : i + 10] == sorted(seen[i : i + 10]) for i in range(0, 30, 10))


async def test_write_through_shows_a_change_at_once_and_a_dialer_state_never_goes_back(
    sim: TelliSimulator, add: AddContact, client: TelliClient, index: TenantIndex
) -> None:
    contact_id = add("Jane", "Doe", "+4930555010")
    await _synced(index, client)
    contact = await client.contacts.get(contact_id)
    idle = await client.contacts_v1.get(contact_id)
    talking = idle.model_copy(update={"in_call_since": sim.clock.now()})
    now = sim.clock.now()

    index.put(contact.model_copy(update={"last_name": "Smith"}))
    renamed = _found(index, name="jane smith")
    earlier_read = index.apply_dialer(idle.model_copy(update={"status": "closed"}), now - timedelta(minutes=5))
    live = index.apply_dialer(talking, now)  # further along: a call is live
    late_idle = index.apply_dialer(idle, now + timedelta(minutes=5))  # delivered later, but from before the call
    in_call = _found(index, dialer_state=["in_call"])
    gone = index.remove(contact_id)

    assert renamed == {contact_id}
    assert (earlier_read, live, late_idle, in_call) == (False, True, False, {contact_id})
    assert gone and _found(index) == set()
    assert index.get(contact_id) is None


async def test_a_contact_created_through_a_tool_is_new_until_telli_says_otherwise(
    sim: TelliSimulator, add: AddContact, client: TelliClient, index: TenantIndex
) -> None:
    contact = await client.contacts.get(add("Jane", "Doe", "+4930555010"))

    index.put(contact, DialerRead.new(sim.clock.now()))

    found = index.get(contact.id)
    assert found is not None and (found.dialer_state, found.call_attempts) == (DialerState.NEW, 0)


async def test_a_contact_listed_twice_in_one_round_and_a_name_repeating_a_word_are_kept_once(
    sim: TelliSimulator, add: AddContact, client: TelliClient, index: TenantIndex
) -> None:
    contact = await client.contacts.get(add("Jo", "Jo", "+4930555010", custom_merge={"tags": ["a", "a", "b"]}))
    read = DialerRead.of(await client.contacts_v1.get(contact.id), sim.clock.now())
    walk = index.begin_walk()

    index.save_round([(contact, read), (contact, read)], seen_ids=[], cursor=None, walk=walk.number)

    assert index.finish_walk(walk.number) == 0
    assert _found(index, name="jo jo") == _found(index, property_equals={"tags": "a"}) == {contact.id}
    assert index.status().contacts == 1


async def test_a_very_long_property_value_or_name_word_is_indexed_and_found_on_both_engines(
    add: AddContact, client: TelliClient, index: TenantIndex
) -> None:
    # Incompressible text (PostgreSQL compresses index entries): past any index entry's size limit, compressed or not.
    letters = random.Random(17)
    essay = " ".join("".join(letters.choices(string.ascii_letters, k=9)) for _ in range(1500))  # 15 KB
    word = "Wolfe" + "".join(letters.choices(string.ascii_lowercase, k=6000))  # one 6,005-letter "word"
    wanted = add("Hubert", word, "+4930555011", custom_merge={"notes": essay})
    other = add("Hubert", "Short", "+4930555012", custom_merge={"notes": essay + "!"})
    await _synced(index, client)

    assert _found(index, property_equals={"notes": essay}) == {wanted}
    assert _found(index, property_in={"notes": [essay, "something else"]}) == {wanted}
    assert _found(index, name=word[:90]) == {wanted}  # as long as a query may be: past the longest word kept
    assert _found(index, name="hubert wolfe") == {wanted}
    assert _found(index, name="hubert") == {wanted, other}
