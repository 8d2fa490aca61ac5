"""v2 contact properties (§2.6, §3.3) and agents (§2.7)."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from telli_mcp.simulator import Account

pytestmark = pytest.mark.anyio

SYSTEM_KEYS = {"firstName", "lastName", "phoneNumber", "email", "timezoneIana", "externalId", "externalUrl"}


def select_property(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "key": "tier",
        "dataType": "select",
        "label": "Tier",
        "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B", "description": "second"}],
    }
    body.update(overrides)
    return body


async def test_the_list_is_a_single_page_with_the_system_properties(client: httpx2.AsyncClient) -> None:
    response = await client.get("/v2/properties/contacts")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data"}
    assert {item["key"] for item in body["data"]} == SYSTEM_KEYS
    assert {item["source"] for item in body["data"]} == {"system"}


async def test_create_is_201_with_the_definition(client: httpx2.AsyncClient) -> None:
    response = await client.post("/v2/properties/contacts", json=select_property(description="Customer tier"))
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "type",
        "key",
        "dataType",
        "source",
        "label",
        "createdAt",
        "updatedAt",
        "description",
        "options",
    }
    assert (body["key"], body["dataType"], body["source"]) == ("tier", "select", "user")
    assert body["options"][1] == {"value": "b", "label": "B", "description": "second"}
    assert (await client.get("/v2/properties/contacts/tier")).json() == body


async def test_a_plain_property_has_no_options_or_description(client: httpx2.AsyncClient) -> None:
    body = {"key": "score", "dataType": "number", "label": "Score"}
    created = (await client.post("/v2/properties/contacts", json=body)).json()
    assert "options" not in created and "description" not in created


@pytest.mark.parametrize("key", ["tier", "firstName"])
async def test_an_existing_key_is_409(client: httpx2.AsyncClient, key: str) -> None:
    await client.post("/v2/properties/contacts", json=select_property())
    response = await client.post("/v2/properties/contacts", json=select_property(key=key))
    assert response.status_code == 409
    assert response.json()["code"] == "PROPERTY_ALREADY_EXISTS"


@pytest.mark.parametrize(
    "override",
    [
        {"key": "_bad"},
        {"key": "has space"},
        {"key": "k" * 65},
        {"dataType": "color"},
        {"label": ""},
        {"dataType": "string"},  # options on a non-select type
    ],
)
async def test_an_invalid_definition_is_400(client: httpx2.AsyncClient, override: dict[str, Any]) -> None:
    response = await client.post("/v2/properties/contacts", json=select_property(**override))
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"


async def test_patch_adds_options_to_the_existing_ones(client: httpx2.AsyncClient) -> None:
    created = (await client.post("/v2/properties/contacts", json=select_property())).json()
    options = [*created["options"], {"value": "c", "label": "C"}]
    response = await client.patch("/v2/properties/contacts/tier", json={"label": "Level", "options": options})
    assert response.status_code == 200
    assert [option["value"] for option in response.json()["options"]] == ["a", "b", "c"]
    assert response.json()["label"] == "Level"


async def test_patch_cannot_remove_an_existing_option(client: httpx2.AsyncClient) -> None:
    await client.post("/v2/properties/contacts", json=select_property())
    new_options = [{"value": v, "label": v.upper()} for v in ("a", "x")]
    response = await client.patch("/v2/properties/contacts/tier", json={"options": new_options})
    assert response.status_code == 400
    assert response.json()["data"]["field"] == "options" and "b" in response.json()["message"]
    kept = (await client.get("/v2/properties/contacts/tier")).json()["options"]
    assert [option["value"] for option in kept] == ["a", "b"]


@pytest.mark.parametrize("change", [{"dataType": "string"}, {"key": "other"}])
async def test_key_and_data_type_cannot_be_updated(client: httpx2.AsyncClient, change: dict[str, str]) -> None:
    await client.post("/v2/properties/contacts", json=select_property())
    response = await client.patch("/v2/properties/contacts/tier", json=change)
    assert response.status_code == 400 and response.json()["data"]["field"] == next(iter(change))


async def test_an_unknown_property_is_404(client: httpx2.AsyncClient) -> None:
    for method, body in (("GET", None), ("PATCH", {"label": "x"})):
        response = await client.request(method, "/v2/properties/contacts/nope", json=body)
        assert response.status_code == 404
        assert response.json()["code"] == "PROPERTY_NOT_FOUND"


async def test_there_is_no_delete_for_properties(client: httpx2.AsyncClient) -> None:
    await client.post("/v2/properties/contacts", json=select_property())
    assert (await client.delete("/v2/properties/contacts/tier")).status_code == 405


async def test_agents_paginate_and_carry_the_documented_fields(client: httpx2.AsyncClient, account: Account) -> None:
    made = [account.add_agent(f"Agent {n}", "de" if n % 2 else "en").id for n in range(3)]
    first = (await client.get("/v2/agents", params={"limit": 2})).json()
    assert set(first) == {"type", "data", "pageInfo", "meta"}
    assert set(first["data"][0]) == {"id", "type", "title", "language", "createdAt"}
    assert first["data"][0]["type"] == "Agent"
    assert first["pageInfo"]["hasNextPage"] is True
    second = (await client.get("/v2/agents", params={"limit": 2, "cursor": first["pageInfo"]["nextCursor"]})).json()
    assert second["pageInfo"] == {"hasNextPage": False, "nextCursor": None, "endCursor": None}
    assert [agent["id"] for agent in first["data"] + second["data"]] == made


async def test_an_agent_is_fetched_by_id_and_an_unknown_one_is_404(
    client: httpx2.AsyncClient, account: Account
) -> None:
    agent = account.add_agent("Closer", "en")
    assert (await client.get(f"/v2/agents/{agent.id}")).json()["title"] == "Closer"
    assert (await client.get("/v2/agents/00000000-0000-4000-8000-000000000000")).status_code == 404
