"""Every public client method, called three ways, sends only requests telli's documented contract allows.

The three ways: only the required arguments; every optional argument set; every optional argument passed as
None. The strict simulator marks any request that breaks the contract (`LoggedRequest.violations`), and each
call must also succeed, so a method that omits a required field fails here too.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from contract_helpers import Ids, seeded

from telli_mcp.client import (
    ContactCreate,
    ContactUpdate,
    ContactV1Create,
    ContactV1Update,
    InitiateCall,
    PhoneNumberImport,
    PropertyCreate,
    PropertyOption,
    PropertyUpdate,
    PropertyValueInput,
    ScheduleCall,
    TelliClient,
)
from telli_mcp.simulator import TEST_API_KEY

pytestmark = pytest.mark.anyio

Call = Callable[[TelliClient, Ids], Awaitable[Any]]
OWN_NUMBER = "+493090182900"
"""An outbound number of the seeded account (a caller id it may use)."""


async def drain(iterator: Any) -> list[Any]:
    return [item async for item in iterator]


def ignore(*_: Any) -> None:
    """An `on_chunk` / `on_invalid` callback that is set but does nothing."""


async def ignore_async(*_: Any) -> None:
    """An async `on_chunk` callback."""


def v2_full(**overrides: Any) -> ContactCreate:
    fields: dict[str, Any] = {
        "first_name": "Ada", "last_name": "Lovelace", "phone_number": "+12125550123", "external_id": "crm-new-1",
        "external_url": "https://crm.example.com/contacts/1", "salutation": "Ms.", "timezone_iana": "America/New_York",
        "email": "ada@example.com", "properties": [PropertyValueInput(key="plan", value="gold")],
    }  # fmt: skip
    return ContactCreate(**{**fields, **overrides})


V2_REQUIRED = {"first_name": "Ada", "last_name": "Lovelace", "phone_number": "+12125550123"}
V2_OPTIONAL_NONE = {
    "external_id": None, "external_url": None, "salutation": None, "timezone_iana": None, "email": None,
    "properties": None,
}  # fmt: skip
V1_REQUIRED = {"external_contact_id": "ext-new-1", "first_name": "Ada", "last_name": "Lovelace",
               "phone_number": "+12125550123"}  # fmt: skip
V1_OPTIONAL = {"external_url": "https://crm.example.com/contacts/1", "salutation": "Ms.", "email": "ada@example.com",
               "contact_details": {"plan": "gold"}, "timezone": "America/New_York"}  # fmt: skip
V1_UPDATE_OPTIONAL = {**V1_OPTIONAL, "first_name": "Grace", "last_name": "Hopper",
                      "phone_number": "+12125550124", "external_contact_id": "ext-renamed"}  # fmt: skip


def nones(values: dict[str, Any]) -> dict[str, Any]:
    return dict.fromkeys(values)


async def first_cursor(page: Awaitable[Any]) -> str:
    cursor = (await page).next_cursor
    assert isinstance(cursor, str)
    return cursor


CALLS: dict[str, dict[str, Call]] = {
    # v2 contacts
    "contacts.create": {
        "required": lambda t, i: t.contacts.create(ContactCreate(**V2_REQUIRED)),
        "all": lambda t, i: t.contacts.create(v2_full()),
        "none": lambda t, i: t.contacts.create(ContactCreate(**V2_REQUIRED, **V2_OPTIONAL_NONE)),
    },
    "contacts.get": {"required": lambda t, i: t.contacts.get(i.looping)},
    "contacts.get_by_external_id": {"required": lambda t, i: t.contacts.get_by_external_id("crm-123")},
    "contacts.list": {
        "required": lambda t, i: t.contacts.list(),
        "all": lambda t, i: _list_twice(t.contacts.list),
        "none": lambda t, i: t.contacts.list(cursor=None),
    },
    "contacts.iterate": {
        "required": lambda t, i: drain(t.contacts.iterate()),
        "all": lambda t, i: drain(t.contacts.iterate(page_size=3, on_invalid=ignore)),
        "none": lambda t, i: drain(t.contacts.iterate(on_invalid=None)),
    },
    "contacts.update": {
        "required": lambda t, i: t.contacts.update(i.fresh, ContactUpdate()),
        "all": lambda t, i: t.contacts.update(
            i.fresh,
            ContactUpdate(
                **{**V2_REQUIRED, "first_name": "Grace"},
                **{k: v for k, v in v2_full().model_dump().items() if k not in V2_REQUIRED and k != "properties"},
                properties=[PropertyValueInput(key="plan", value=None)],
            ),
        ),
        "none": lambda t, i: t.contacts.update(i.fresh, ContactUpdate(**nones(V2_REQUIRED), **V2_OPTIONAL_NONE)),
        "clear": lambda t, i: t.contacts.update(
            i.fresh, ContactUpdate(clear=frozenset(["external_url", "salutation", "timezone_iana", "email"]))
        ),
    },
    "contacts.replace": {
        "required": lambda t, i: t.contacts.replace(i.fresh, ContactCreate(**V2_REQUIRED)),
        "all": lambda t, i: t.contacts.replace(i.fresh, v2_full()),
        "none": lambda t, i: t.contacts.replace(i.fresh, ContactCreate(**V2_REQUIRED, **V2_OPTIONAL_NONE)),
    },
    "contacts.delete": {"required": lambda t, i: t.contacts.delete(i.fresh)},
    # v1 contacts
    "contacts_v1.create": {
        "required": lambda t, i: t.contacts_v1.create(ContactV1Create(**V1_REQUIRED)),
        "all": lambda t, i: t.contacts_v1.create(ContactV1Create(**V1_REQUIRED, **V1_OPTIONAL)),
        "none": lambda t, i: t.contacts_v1.create(ContactV1Create(**V1_REQUIRED, **nones(V1_OPTIONAL))),
    },
    "contacts_v1.get": {"required": lambda t, i: t.contacts_v1.get(i.looping)},
    "contacts_v1.get_by_external_id": {"required": lambda t, i: t.contacts_v1.get_by_external_id("crm-123")},
    "contacts_v1.get_batch": {"required": lambda t, i: t.contacts_v1.get_batch([i.looping, i.fresh])},
    "contacts_v1.update": {
        "required": lambda t, i: t.contacts_v1.update(ContactV1Update(contact_id=i.fresh)),
        "all": lambda t, i: t.contacts_v1.update(ContactV1Update(contact_id=i.fresh, **V1_UPDATE_OPTIONAL)),
        "none": lambda t, i: t.contacts_v1.update(ContactV1Update(contact_id=i.fresh, **nones(V1_UPDATE_OPTIONAL))),
    },
    "contacts_v1.delete": {"required": lambda t, i: t.contacts_v1.delete(i.fresh)},
    "contacts_v1.add_batch": {
        "required": lambda t, i: t.contacts_v1.add_batch([ContactV1Create(**V1_REQUIRED)]),
        "all": lambda t, i: t.contacts_v1.add_batch(
            [ContactV1Create(**V1_REQUIRED, **V1_OPTIONAL)], concurrency=2, on_chunk=ignore_async, stop_on_error=False
        ),
        "none": lambda t, i: t.contacts_v1.add_batch(
            [ContactV1Create(**V1_REQUIRED, **nones(V1_OPTIONAL))], on_chunk=None
        ),
    },
    "contacts_v1.update_batch": {
        "required": lambda t, i: t.contacts_v1.update_batch([ContactV1Update(contact_id=i.fresh)]),
        "all": lambda t, i: t.contacts_v1.update_batch(
            [ContactV1Update(contact_id=i.fresh, **V1_UPDATE_OPTIONAL)],
            concurrency=2,
            on_chunk=ignore_async,
            stop_on_error=False,
        ),
        "none": lambda t, i: t.contacts_v1.update_batch(
            [ContactV1Update(contact_id=i.fresh, **nones(V1_UPDATE_OPTIONAL))], on_chunk=None
        ),
    },
    # properties
    "properties.list": {"required": lambda t, i: t.properties.list()},
    "properties.get": {"required": lambda t, i: t.properties.get("plan")},
    "properties.create": {
        "required": lambda t, i: t.properties.create(PropertyCreate(key="tier", data_type="string", label="Tier")),
        "all": lambda t, i: t.properties.create(
            PropertyCreate(
                key="tier",
                data_type="select",
                label="Tier",
                description="Customer tier",
                options=[PropertyOption(value="a", label="A", description="First")],
            )
        ),
        "none": lambda t, i: t.properties.create(
            PropertyCreate(key="tier", data_type="string", label="Tier", description=None, options=None)
        ),
    },
    "properties.update": {
        "required": lambda t, i: t.properties.update("plan", PropertyUpdate()),
        "all": lambda t, i: t.properties.update(
            "plan",
            PropertyUpdate(
                label="Plan level",
                description="What they pay for",
                add_options=[PropertyOption(value="platinum", label="Platinum")],
            ),
        ),
        "none": lambda t, i: t.properties.update(
            "plan", PropertyUpdate(label=None, description=None, add_options=None)
        ),
        "clear": lambda t, i: t.properties.update("plan", PropertyUpdate(clear_description=True)),
    },
    # calls and the dialer
    "calls.get": {"required": lambda t, i: t.calls.get(i.call)},
    "calls.schedule": {
        "required": lambda t, i: t.calls.schedule(ScheduleCall(contact_id=i.fresh, agent_id=i.agent)),
        "all": lambda t, i: t.calls.schedule(
            ScheduleCall(contact_id=i.fresh, agent_id=i.agent, max_retry_days=3, override_from_number=OWN_NUMBER)
        ),
        "none": lambda t, i: t.calls.schedule(
            ScheduleCall(contact_id=i.fresh, agent_id=i.agent, max_retry_days=None, override_from_number=None)
        ),
    },
    "calls.schedule_batch": {
        "required": lambda t, i: t.calls.schedule_batch([ScheduleCall(contact_id=i.fresh, agent_id=i.agent)]),
        "all": lambda t, i: t.calls.schedule_batch(
            [ScheduleCall(contact_id=i.fresh, agent_id=i.agent, max_retry_days=0, override_from_number=OWN_NUMBER)],
            concurrency=2,
            on_chunk=ignore_async,
            stop_on_error=False,
        ),
        "none": lambda t, i: t.calls.schedule_batch(
            [ScheduleCall(contact_id=i.fresh, agent_id=i.agent, max_retry_days=None, override_from_number=None)],
            on_chunk=None,
        ),
    },
    "calls.initiate": {
        "required": lambda t, i: t.calls.initiate(InitiateCall(contact_id=i.fresh)),
        "all": lambda t, i: t.calls.initiate(
            InitiateCall(contact_id=i.fresh, agent_id=i.agent, max_retry_days=2, override_from_number=OWN_NUMBER)
        ),
        "none": lambda t, i: t.calls.initiate(
            InitiateCall(contact_id=i.fresh, agent_id=None, max_retry_days=None, override_from_number=None)
        ),
    },
    "calls.remove_from_dialer": {"required": lambda t, i: t.calls.remove_from_dialer(i.looping)},
    "calls.remove_from_dialer_batch": {
        "required": lambda t, i: t.calls.remove_from_dialer_batch([i.looping]),
        "all": lambda t, i: t.calls.remove_from_dialer_batch(
            [i.looping], concurrency=2, on_chunk=ignore_async, stop_on_error=False
        ),
        "none": lambda t, i: t.calls.remove_from_dialer_batch([i.looping], on_chunk=None),
    },
    "calls.list": {
        "required": lambda t, i: t.calls.list(),
        "all": lambda t, i: _list_twice(t.calls.list),
        "contact": lambda t, i: t.calls.list(contact_id=i.looping, limit=5),
        "agent": lambda t, i: t.calls.list(agent_id=i.agent, limit=5),
        "none": lambda t, i: t.calls.list(contact_id=None, agent_id=None, cursor=None),
    },
    "calls.iterate": {
        "required": lambda t, i: drain(t.calls.iterate()),
        "all": lambda t, i: drain(t.calls.iterate(contact_id=i.looping, page_size=2, on_invalid=ignore)),
        "agent": lambda t, i: drain(t.calls.iterate(agent_id=i.agent)),
        "none": lambda t, i: drain(t.calls.iterate(contact_id=None, agent_id=None, on_invalid=None)),
    },
    # agents, phone numbers, the key
    "agents.get": {"required": lambda t, i: t.agents.get(i.agent)},
    "agents.list": {
        "required": lambda t, i: t.agents.list(),
        "all": lambda t, i: _list_twice(t.agents.list),
        "none": lambda t, i: t.agents.list(cursor=None),
    },
    "agents.iterate": {
        "required": lambda t, i: drain(t.agents.iterate()),
        "all": lambda t, i: drain(t.agents.iterate(page_size=1, on_invalid=ignore)),
        "none": lambda t, i: drain(t.agents.iterate(on_invalid=None)),
    },
    "phone_numbers.list": {"required": lambda t, i: t.phone_numbers.list()},
    "phone_numbers.import_sip": {
        "required": lambda t, i: t.phone_numbers.import_sip(
            PhoneNumberImport(
                phone_number="+12125550177",
                termination_uri="sip:trunk.example.com",
                auth_username="trunk-user",
                auth_password="trunk-secret",
            )
        )
    },
    "phone_numbers.replace": {"required": lambda t, i: t.phone_numbers.replace(i.phone_number)},
    "phone_numbers.delete": {"required": lambda t, i: t.phone_numbers.delete(i.phone_number)},
    "client.verify_api_key": {"required": lambda t, i: t.verify_api_key()},
}

NOT_IN_TABLE = {
    "client.aclose": "sends nothing",
    "client.fetch_raw": "the diagnostics escape hatch sends exactly what it is given (tested with the deep doctor)",
}


async def _list_twice(list_page: Callable[..., Awaitable[Any]]) -> Any:
    """The first page of 1, then the next page with its cursor: `limit` and `cursor` both set."""
    first = await list_page(limit=1)
    assert first.next_cursor is not None
    return await list_page(limit=1, cursor=first.next_cursor)


def public_methods() -> set[str]:
    client = TelliClient("table-check")
    found = {f"client.{name}" for name, _ in inspect.getmembers(TelliClient, inspect.isfunction)
             if not name.startswith("_")}  # fmt: skip
    for resource in ("contacts", "contacts_v1", "properties", "calls", "agents", "phone_numbers"):
        members = inspect.getmembers(type(getattr(client, resource)), inspect.isfunction)
        found |= {f"{resource}.{name}" for name, _ in members if not name.startswith("_")}
    return found


def cases() -> list[Any]:
    return [pytest.param(method, variant, id=f"{method}-{variant}")
            for method, variants in CALLS.items() for variant in variants]  # fmt: skip


def test_every_public_method_is_in_the_table() -> None:
    assert public_methods() == set(CALLS) | set(NOT_IN_TABLE)


def test_methods_with_optional_arguments_are_called_all_three_ways() -> None:
    for method, variants in CALLS.items():
        if len(variants) > 1:
            assert {"required", "all", "none"} <= set(variants), method


@pytest.mark.parametrize(("method", "variant"), cases())
async def test_a_client_method_sends_only_contract_valid_requests(method: str, variant: str) -> None:
    sim, _, ids = seeded()
    async with TelliClient(TEST_API_KEY, transport=sim.transport()) as telli:
        await CALLS[method][variant](telli, ids)
    assert sim.request_log, f"{method} sent nothing"
    broken = [f"{entry.method} {entry.path}: {entry.violations}" for entry in sim.request_log if entry.violations]
    assert not broken
    assert all(entry.status is not None and entry.status < 400 for entry in sim.request_log), [
        (entry.path, entry.status) for entry in sim.request_log
    ]
