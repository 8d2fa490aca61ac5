"""v1 phone-number endpoints: camelCase shapes, import, replace, delete, and the SIP password never leaking."""

from __future__ import annotations

import json

import httpx2
import pytest

from telli_mcp.simulator import Account, TelliSimulator

pytestmark = pytest.mark.anyio

PHONE_KEYS = {"type", "id", "phoneNumber", "inOutboundPool", "phoneNumberType", "createdAt"}
SECRET = "s3cret-sip-pass"


def import_body(number: str = "+493090182977") -> dict[str, str]:
    return {
        "phoneNumber": number,
        "terminationUri": "sip.example.com",
        "authUsername": "trunk-user",
        "authPassword": SECRET,
    }


async def test_the_list_is_camel_case_even_on_v1(client: httpx2.AsyncClient, account: Account) -> None:
    account.add_phone_number("+15550160")
    body = (await client.get("/v1/phone-numbers")).json()
    assert set(body) == {"data"}
    assert set(body["data"][0]) == PHONE_KEYS
    assert body["data"][0]["type"] == "PhoneNumber" and body["data"][0]["phoneNumber"] == "+15550160"


async def test_import_is_201_with_the_number_and_never_echoes_the_password(
    client: httpx2.AsyncClient, sim: TelliSimulator
) -> None:
    response = await client.post("/v1/phone-numbers/import", json=import_body())
    assert response.status_code == 201
    assert set(response.json()) == PHONE_KEYS
    assert response.json()["phoneNumberType"] == "local"
    listed = await client.get("/v1/phone-numbers")
    assert SECRET not in response.text + listed.text
    logged = sim.requests_to("POST", "/v1/phone-numbers/import")
    assert logged[0].body["authPassword"] == "[redacted]"
    assert logged[0].body["authUsername"] == "trunk-user"
    assert SECRET not in repr(sim.request_log)
    assert SECRET not in repr(sim.account("sim-test-key").phone_numbers)


@pytest.mark.parametrize("missing", ["phoneNumber", "terminationUri", "authUsername", "authPassword"])
async def test_import_needs_every_field(client: httpx2.AsyncClient, missing: str) -> None:
    body = import_body()
    del body[missing]
    response = await client.post("/v1/phone-numbers/import", json=body)
    assert response.status_code == 400
    assert response.json() == {"message": f"{missing} is required"}


async def test_import_rejects_a_non_e164_number(client: httpx2.AsyncClient) -> None:
    response = await client.post("/v1/phone-numbers/import", json=import_body("030 901820"))
    assert response.status_code == 400


async def test_replace_returns_a_new_number_and_retires_the_old_one(client: httpx2.AsyncClient) -> None:
    old = (await client.post("/v1/phone-numbers/import", json=import_body())).json()
    response = await client.post(f"/v1/phone-numbers/{old['id']}/replace", json={})
    assert response.status_code == 200
    new = response.json()
    assert set(new) == PHONE_KEYS and new["id"] != old["id"] and new["phoneNumber"] != old["phoneNumber"]
    assert new["phoneNumber"].startswith("+4930901829")
    active = [item["id"] for item in (await client.get("/v1/phone-numbers")).json()["data"]]
    assert active == [new["id"]]


async def test_delete_takes_the_number_off_the_active_list(client: httpx2.AsyncClient) -> None:
    created = (await client.post("/v1/phone-numbers/import", json=import_body())).json()
    response = await client.delete(f"/v1/phone-numbers/{created['id']}")
    assert response.status_code == 200
    assert set(response.json()) == {"message"}
    assert (await client.get("/v1/phone-numbers")).json() == {"data": []}
    assert (await client.delete(f"/v1/phone-numbers/{created['id']}")).status_code == 404


async def test_the_request_log_body_is_parsed_json(client: httpx2.AsyncClient, sim: TelliSimulator) -> None:
    await client.post("/v1/phone-numbers/import", json=import_body())
    assert json.dumps(sim.request_log[-1].body)  # a JSON value, not bytes
