"""v1 contact endpoints #1–#8: exact snake_case shapes, batch item names, and agreement with v2 (§2.2, §3.6)."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from sim_helpers import create_contact, v1_contact_body

from telli_mcp.simulator import Account, DataType

pytestmark = pytest.mark.anyio

CONTACT_V1_KEYS = {
    "contact_id",
    "external_contact_id",
    "external_url",
    "created_at",
    "first_name",
    "last_name",
    "phone_number",
    "email",
    "salutation",
    "timezone",
    "contact_details",
    "status",
    "call_attempts",
    "next_call_at",
    "reached_at",
    "in_call_since",
}
EXTERNAL_SUBSET_KEYS = {
    "contact_id",
    "external_contact_id",
    "external_url",
    "created_at",
    "in_call_since",
    "reached_at",
    "call_attempts",
    "next_call_at",
}


async def add(client: httpx2.AsyncClient, **overrides: Any) -> str:
    response = await client.post("/v1/add-contact", json=v1_contact_body(**overrides))
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"contact_id"}
    contact_id: str = response.json()["contact_id"]
    return contact_id


async def test_add_then_get_returns_the_full_v1_contact(client: httpx2.AsyncClient) -> None:
    contact_id = await add(client, contact_details={"plan": "gold"}, salutation="Ms.", timezone="America/New_York")
    body = (await client.get(f"/v1/get-contact/{contact_id}")).json()
    assert set(body) == CONTACT_V1_KEYS
    assert body["status"] == "new" and body["call_attempts"] == 0
    assert body["contact_details"] == {"plan": "gold"}
    assert (body["timezone"], body["salutation"]) == ("America/New_York", "Ms.")
    assert body["next_call_at"] is None and body["in_call_since"] is None


async def test_flat_contact_details_fields_and_the_old_dynamic_variables_name_work(
    client: httpx2.AsyncClient,
) -> None:
    first = await add(client, contact_details_plan="gold")
    second = await add(client, external_contact_id="ext-2", dynamic_variables={"plan": "silver"})
    assert (await client.get(f"/v1/get-contact/{first}")).json()["contact_details"] == {"plan": "gold"}
    assert (await client.get(f"/v1/get-contact/{second}")).json()["contact_details"] == {"plan": "silver"}


@pytest.mark.parametrize("missing", ["external_contact_id", "first_name", "last_name", "phone_number"])
async def test_a_missing_required_field_is_400_with_a_message(client: httpx2.AsyncClient, missing: str) -> None:
    body = v1_contact_body()
    del body[missing]
    response = await client.post("/v1/add-contact", json=body)
    assert response.status_code == 400
    assert response.json() == {"message": f"{missing} is required"}


async def test_add_contact_with_a_taken_external_id_is_409(client: httpx2.AsyncClient) -> None:
    await add(client)
    response = await client.post("/v1/add-contact", json=v1_contact_body())
    assert response.status_code == 409
    assert set(response.json()) == {"message"}


async def test_get_by_external_id_returns_the_documented_subset(client: httpx2.AsyncClient) -> None:
    contact_id = await add(client, external_contact_id="crm 7/8")
    response = await client.get("/v1/get-contact-by-external-id/crm%207%2F8")
    assert set(response.json()) == EXTERNAL_SUBSET_KEYS
    assert response.json()["contact_id"] == contact_id


async def test_add_contacts_batch_reports_a_summary_and_per_item_results(client: httpx2.AsyncClient) -> None:
    await add(client, external_contact_id="taken")
    contacts = [
        v1_contact_body(external_contact_id="new-1"),
        v1_contact_body(external_contact_id="taken"),
        v1_contact_body(external_contact_id="new-1"),
    ]
    body = (await client.post("/v1/add-contacts-batch", json={"contacts": contacts})).json()
    assert (body["total_processed"], body["total_success"], body["total_failed"]) == (3, 1, 2)
    ok, *failed = body["result"]
    assert set(ok) == {"external_contact_id", "status", "contact_id"} and ok["status"] == "success"
    assert all(set(item) == {"external_contact_id", "status", "error"} for item in failed)
    assert [item["error"] for item in failed] == ["External ID already exists, must be unique"] * 2
    assert [item["external_contact_id"] for item in failed] == ["taken", "new-1"]


async def test_one_off_contract_item_rejects_the_whole_add_batch(client: httpx2.AsyncClient) -> None:
    contacts = [
        v1_contact_body(external_contact_id="ok-1"),
        v1_contact_body(external_contact_id="bad", phone_number="12345"),
    ]
    response = await client.post("/v1/add-contacts-batch", json={"contacts": contacts})
    assert response.status_code == 400
    assert response.json()["message"].startswith("contacts[1].phone_number must be an E.164 phone number")
    assert (await client.get("/v1/get-contact-by-external-id/ok-1")).status_code == 404


async def test_get_contacts_batch_uses_camel_case_contact_id_on_failures(client: httpx2.AsyncClient) -> None:
    contact_id = await add(client)
    missing = "00000000-0000-4000-8000-000000000000"
    body = (await client.post("/v1/get-contacts-batch", json={"contact_ids": [contact_id, missing]})).json()
    assert body[0]["status"] == "success" and set(body[0]) == {"status", "contact"}
    assert "status" not in body[0]["contact"] and body[0]["contact"]["contact_id"] == contact_id
    assert body[1] == {"status": "error", "error": "Contact not found", "contactId": missing}


async def test_update_contact_changes_only_given_fields_and_replaces_details(client: httpx2.AsyncClient) -> None:
    contact_id = await add(client, contact_details={"a": 1, "b": 2}, email="ada@example.com")
    response = await client.patch(
        "/v1/update-contact", json={"contact_id": contact_id, "first_name": "Grace", "contact_details": {"c": 3}}
    )
    assert response.json() == {"contact_id": contact_id}
    body = (await client.get(f"/v1/get-contact/{contact_id}")).json()
    assert (body["first_name"], body["last_name"], body["email"]) == ("Grace", "Lovelace", "ada@example.com")
    assert body["contact_details"] == {"c": 3}


async def test_update_contact_of_an_unknown_id_is_404_and_without_id_400(client: httpx2.AsyncClient) -> None:
    unknown_id = "00000000-0000-4000-8000-000000000000"
    unknown = await client.patch("/v1/update-contact", json={"contact_id": unknown_id, "first_name": "X"})
    assert unknown.status_code == 404
    malformed = await client.patch("/v1/update-contact", json={"contact_id": "nope", "first_name": "X"})
    assert malformed.status_code == 400 and malformed.json()["message"].startswith("contact_id must be a UUID")
    assert (await client.patch("/v1/update-contact", json={"first_name": "X"})).json() == {
        "message": "contact_id is required"
    }


async def test_update_contacts_batch_reports_per_item(client: httpx2.AsyncClient) -> None:
    contact_id = await add(client)
    unknown = "00000000-0000-4000-8000-000000000000"
    items = [{"contact_id": contact_id, "last_name": "Byron"}, {"contact_id": unknown, "last_name": "X"}]
    body = (await client.patch("/v1/update-contacts-batch", json={"contacts": items})).json()
    assert body == [
        {"contact_id": contact_id, "status": "success"},
        {"contact_id": unknown, "status": "error", "error": "Contact not found"},
    ]


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("POST", "/v1/add-contacts-batch", "contacts"),
        ("POST", "/v1/get-contacts-batch", "contact_ids"),
        ("PATCH", "/v1/update-contacts-batch", "contacts"),
    ],
)
async def test_contact_batches_over_1000_items_are_400(
    client: httpx2.AsyncClient, method: str, path: str, field: str
) -> None:
    response = await client.request(method, path, json={field: [{}] * 1001})
    assert response.status_code == 400
    assert set(response.json()) == {"message"}


async def test_delete_contact_v1_removes_the_contact(client: httpx2.AsyncClient) -> None:
    contact_id = await add(client)
    response = await client.delete(f"/v1/delete-contact/{contact_id}")
    assert response.status_code == 200
    assert (await client.get(f"/v1/get-contact/{contact_id}")).status_code == 404


async def test_v1_and_v2_views_of_one_contact_agree(client: httpx2.AsyncClient, account: Account) -> None:
    account.add_property("budget", DataType.NUMBER, "Budget")
    created = await create_contact(
        client,
        externalId="crm-1",
        email="ada@example.com",
        salutation="Ms.",
        properties=[{"key": "budget", "value": 100}],
    )
    v1 = (await client.get(f"/v1/get-contact/{created['id']}")).json()
    v2 = (await client.get(f"/v2/contacts/{created['id']}")).json()
    pairs = [
        ("contact_id", "id"),
        ("external_contact_id", "externalId"),
        ("external_url", "externalUrl"),
        ("first_name", "firstName"),
        ("last_name", "lastName"),
        ("phone_number", "phoneNumber"),
        ("email", "email"),
        ("salutation", "salutation"),
        ("timezone", "timezoneIana"),
        ("created_at", "createdAt"),
    ]
    assert all(v1[a] == v2[b] for a, b in pairs)
    assert v1["contact_details"] == {item["key"]: item["value"] for item in v2["properties"]} == {"budget": 100}


async def test_details_written_through_v1_show_up_in_v2_even_without_a_definition(
    client: httpx2.AsyncClient,
) -> None:
    contact_id = await add(client, contact_details={"favourite_colour": "teal"})
    properties = (await client.get(f"/v2/contacts/{contact_id}")).json()["properties"]
    assert properties == [
        {"key": "favourite_colour", "dataType": "string", "value": "teal", "label": "favourite_colour", "options": []}
    ]
