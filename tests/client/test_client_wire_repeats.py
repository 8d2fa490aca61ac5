"""The wire rules are read once per request class and reused for every item: each body still carries only what
its own model holds, whatever the items or requests before it held.

Every assertion reads the body the simulator received, so it checks the request on the wire, not a model.
"""

from __future__ import annotations

from typing import Any

import pytest
from client_helpers import berlin_number, contact_params

from telli_mcp.client import ContactUpdate, ContactV1Create, TelliClient
from telli_mcp.simulator import TelliSimulator

pytestmark = pytest.mark.anyio


def _bodies(sim: TelliSimulator, method: str, path: str) -> list[Any]:
    return [request.body for request in sim.requests_to(method, path)]


async def test_each_item_of_a_batch_sends_exactly_its_own_optional_fields(
    telli: TelliClient, sim: TelliSimulator
) -> None:
    contacts = [
        ContactV1Create(
            external_contact_id=f"ext-{index}",
            first_name="Max",
            last_name="Muster",
            phone_number=berlin_number(index),
            email="max@example.com" if index % 2 else None,
            salutation="Herr" if index % 3 == 0 else None,
            timezone="Europe/Berlin" if index == 4 else None,
        )
        for index in range(6)
    ]
    await telli.contacts_v1.add_batch(contacts)
    [body] = _bodies(sim, "POST", "/v1/add-contacts-batch")
    sent = body["contacts"]
    required = {"external_contact_id", "first_name", "last_name", "phone_number"}
    assert [set(item) - required for item in sent] == [
        {"salutation"},
        {"email"},
        set(),
        {"email", "salutation"},
        {"timezone"},
        {"email"},
    ]
    assert [item["phone_number"] for item in sent] == [berlin_number(index) for index in range(6)]


async def test_a_clear_sent_once_is_not_repeated_by_the_next_update_of_the_same_kind(
    telli: TelliClient, sim: TelliSimulator
) -> None:
    created = await telli.contacts.create(contact_params(1, email="erika@example.com", salutation="Frau"))
    await telli.contacts.update(created.id, ContactUpdate(first_name="Eri", clear=frozenset({"email"})))
    await telli.contacts.update(created.id, ContactUpdate(last_name="Neu"))
    updated = await telli.contacts.update(created.id, ContactUpdate(clear=frozenset({"salutation"})))
    assert _bodies(sim, "PATCH", f"/v2/contacts/{created.id}") == [
        {"firstName": "Eri", "email": None},
        {"lastName": "Neu"},
        {"salutation": None},
    ]
    assert (updated.first_name, updated.last_name, updated.email, updated.salutation) == ("Eri", "Neu", None, None)
