"""v2 contacts: shapes, status codes, property semantics, validation and pagination (§2.5, §3.2, §5.2)."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from sim_helpers import contact_body, create_contact

from telli_mcp.simulator import Account, DataType
from telli_mcp.simulator.records import PropertyOption

pytestmark = pytest.mark.anyio

CONTACT_V2_KEYS = {
    "id",
    "type",
    "externalId",
    "externalUrl",
    "salutation",
    "firstName",
    "lastName",
    "phoneNumber",
    "timezoneIana",
    "email",
    "createdAt",
    "updatedAt",
    "properties",
    "autoDialerStatus",
}


@pytest.fixture
def plan(account: Account) -> None:
    options = [PropertyOption("gold", "Gold"), PropertyOption("silver", "Silver")]
    account.add_property("plan", DataType.SELECT, "Plan", options=options)
    account.add_property("budget", DataType.NUMBER, "Budget")


async def test_create_answers_201_with_the_full_camel_case_contact(client: httpx2.AsyncClient) -> None:
    response = await client.post("/v2/contacts", json=contact_body(externalId="crm-1"))
    assert response.status_code == 201
    body = response.json()
    assert set(body) == CONTACT_V2_KEYS
    assert body["type"] == "Contact"
    assert body["firstName"] == "Ada" and body["externalId"] == "crm-1"
    assert body["timezoneIana"] == "Europe/Berlin"
    assert body["autoDialerStatus"] == "not_in_dialer"
    assert body["createdAt"] == "2026-03-02T08:00:00.000Z"


async def test_properties_are_typed_items_with_definition_metadata(client: httpx2.AsyncClient, plan: None) -> None:
    body = await create_contact(client, properties=[{"key": "plan", "value": "gold"}])
    assert body["properties"] == [
        {
            "key": "plan",
            "dataType": "select",
            "value": "gold",
            "label": "Plan",
            "options": [{"value": "gold", "label": "Gold"}, {"value": "silver", "label": "Silver"}],
        }
    ]


async def test_patch_merges_properties_and_null_clears_one(client: httpx2.AsyncClient, plan: None) -> None:
    created = await create_contact(client, properties=[{"key": "plan", "value": "gold"}, {"key": "budget", "value": 5}])
    response = await client.patch(
        f"/v2/contacts/{created['id']}", json={"firstName": "Grace", "properties": [{"key": "plan", "value": None}]}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["firstName"] == "Grace" and body["lastName"] == "Lovelace"
    assert [(item["key"], item["value"]) for item in body["properties"]] == [("budget", 5)]


async def test_an_unknown_property_key_is_422_naming_the_key(client: httpx2.AsyncClient) -> None:
    response = await client.post("/v2/contacts", json=contact_body(properties=[{"key": "shoe_size", "value": 42}]))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "UNKNOWN_PROPERTY"
    assert "shoe_size" in body["message"]


@pytest.mark.parametrize(("key", "value"), [("plan", "platinum"), ("plan", 1), ("budget", "lots"), ("budget", True)])
async def test_a_wrongly_typed_property_value_is_422_with_the_allowed_values(
    client: httpx2.AsyncClient, plan: None, key: str, value: Any
) -> None:
    response = await client.post("/v2/contacts", json=contact_body(properties=[{"key": key, "value": value}]))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "INVALID_PROPERTY_VALUE"
    assert key in body["message"]
    if key == "plan":
        assert body["data"]["allowedValues"] == ["gold", "silver"]


async def test_put_replaces_the_contact_and_drops_omitted_fields(client: httpx2.AsyncClient, plan: None) -> None:
    created = await create_contact(
        client, email="ada@example.com", externalId="crm-9", properties=[{"key": "plan", "value": "gold"}]
    )
    response = await client.put(f"/v2/contacts/{created['id']}", json=contact_body(firstName="Augusta", properties=[]))
    assert response.status_code == 200
    body = response.json()
    assert (body["firstName"], body["email"], body["externalId"], body["properties"]) == ("Augusta", None, None, [])


async def test_delete_is_204_and_the_contact_is_then_gone_everywhere(client: httpx2.AsyncClient) -> None:
    created = await create_contact(client, externalId="crm-del")
    response = await client.delete(f"/v2/contacts/{created['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"/v2/contacts/{created['id']}")).status_code == 404
    assert (await client.get("/v2/external/contacts/crm-del")).status_code == 404
    assert (await client.get(f"/v1/get-contact/{created['id']}")).status_code == 404
    assert (await client.get("/v2/contacts")).json()["data"] == []
    assert (await client.delete(f"/v2/contacts/{created['id']}")).status_code == 404


async def test_delete_anonymises_the_stored_record(client: httpx2.AsyncClient, account: Account) -> None:
    created = await create_contact(client, email="ada@example.com")
    await client.delete(f"/v2/contacts/{created['id']}")
    record = account.contacts[created["id"]]
    assert record.deleted
    assert "Ada" not in (record.first_name, record.last_name) and record.phone_number == ""
    assert record.email is None


async def test_get_by_external_id_url_decodes_the_path(client: httpx2.AsyncClient) -> None:
    created = await create_contact(client, externalId="crm/ä 1+x")
    response = await client.get("/v2/external/contacts/crm%2F%C3%A4%201%2Bx")
    assert response.status_code == 200
    assert response.json()["id"] == created["id"]


async def test_a_duplicate_external_id_is_409(client: httpx2.AsyncClient) -> None:
    await create_contact(client, externalId="crm-dup")
    response = await client.post("/v2/contacts", json=contact_body(externalId="crm-dup"))
    assert response.status_code == 409
    assert response.json()["code"] == "DUPLICATE_EXTERNAL_ID"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"firstName": ""}, "firstName"),
        ({"lastName": "x" * 51}, "lastName"),
        ({"phoneNumber": "030 1234"}, "phoneNumber"),
        ({"phoneNumber": "+0123"}, "phoneNumber"),
        ({"phoneNumber": "+1" + "5" * 19}, "phoneNumber"),
        ({"externalId": ""}, "externalId"),
        ({"email": "not-an-email"}, "email"),
        ({"timezoneIana": "Mars/Olympus"}, "timezoneIana"),
    ],
)
async def test_invalid_fields_are_400_validation_errors_naming_the_field(
    client: httpx2.AsyncClient, override: dict[str, Any], field: str
) -> None:
    response = await client.post("/v2/contacts", json=contact_body(**override))
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert response.json()["data"]["field"] == field


async def test_a_missing_required_field_is_400(client: httpx2.AsyncClient) -> None:
    response = await client.post("/v2/contacts", json={"firstName": "Ada", "lastName": "Lovelace"})
    assert response.status_code == 400
    assert response.json()["data"]["field"] == "phoneNumber"
    assert response.json()["message"] == "phoneNumber is required"


async def test_the_list_walks_every_contact_once_across_pages(client: httpx2.AsyncClient) -> None:
    created = [await create_contact(client, externalId=f"crm-{n}") for n in range(7)]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        body = (await client.get("/v2/contacts", params=params)).json()
        assert set(body) == {"type", "data", "pageInfo", "meta"}
        assert body["meta"] == {"limit": 3, "count": len(body["data"])}
        assert body["pageInfo"]["nextCursor"] == body["pageInfo"]["endCursor"]
        seen += [item["id"] for item in body["data"]]
        pages += 1
        if not body["pageInfo"]["hasNextPage"]:
            assert body["pageInfo"]["nextCursor"] is None
            break
        cursor = body["pageInfo"]["nextCursor"]
    assert seen == [contact["id"] for contact in created]
    assert pages == 3


async def test_a_deletion_between_pages_neither_skips_nor_repeats(client: httpx2.AsyncClient) -> None:
    created = [await create_contact(client, externalId=f"crm-{n}") for n in range(4)]
    first = (await client.get("/v2/contacts", params={"limit": 2})).json()
    await client.delete(f"/v2/contacts/{created[1]['id']}")
    second = (await client.get("/v2/contacts", params={"limit": 2, "cursor": first["pageInfo"]["nextCursor"]})).json()
    assert [item["id"] for item in second["data"]] == [created[2]["id"], created[3]["id"]]


async def test_cursors_contain_characters_that_need_url_encoding(client: httpx2.AsyncClient) -> None:
    for n in range(2):
        await create_contact(client, externalId=f"crm-{n}")
    cursor = (await client.get("/v2/contacts", params={"limit": 1})).json()["pageInfo"]["nextCursor"]
    assert "+" in cursor and "/" in cursor


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"limit": "ten"}, {"cursor": "garbage!"}])
async def test_a_bad_limit_or_cursor_is_400(client: httpx2.AsyncClient, params: dict[str, Any]) -> None:
    response = await client.get("/v2/contacts", params=params)
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"


async def test_a_cursor_of_another_listing_is_400(client: httpx2.AsyncClient, account: Account) -> None:
    for n in range(2):
        account.add_agent(f"Agent {n}")
    cursor = (await client.get("/v2/agents", params={"limit": 1})).json()["pageInfo"]["nextCursor"]
    assert (await client.get("/v2/contacts", params={"cursor": cursor})).status_code == 400


async def test_a_body_that_is_not_json_is_400(client: httpx2.AsyncClient) -> None:
    response = await client.post("/v2/contacts", content=b"{nope", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
