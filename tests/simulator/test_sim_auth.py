"""Authentication, the key check endpoint and tenant isolation."""

from __future__ import annotations

import httpx2
import pytest
from sim_helpers import BASE_URL, contact_body, create_contact

from telli_mcp.simulator import TEST_API_KEY, TelliSimulator

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("header", [f"Bearer {TEST_API_KEY}", TEST_API_KEY, f"bearer {TEST_API_KEY}"])
async def test_the_key_is_accepted_with_or_without_the_bearer_prefix(sim: TelliSimulator, header: str) -> None:
    async with httpx2.AsyncClient(transport=sim.transport(), base_url=BASE_URL) as http:
        response = await http.get("/v1/verify-api-key", headers={"Authorization": header})
    assert response.status_code == 200
    assert response.json() == {"message": "API key is valid"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-key"}, {"Authorization": "Bearer "}])
async def test_v1_rejects_a_missing_or_unknown_key_with_401_and_a_message(
    sim: TelliSimulator, headers: dict[str, str]
) -> None:
    async with httpx2.AsyncClient(transport=sim.transport(), base_url=BASE_URL) as http:
        response = await http.get("/v1/list-calls", headers=headers)
    assert response.status_code == 401
    assert set(response.json()) == {"message"}


async def test_v2_rejects_an_unknown_key_with_a_structured_error(sim: TelliSimulator) -> None:
    async with httpx2.AsyncClient(transport=sim.transport(), base_url=BASE_URL) as http:
        response = await http.get("/v2/contacts", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"
    assert "nope" not in response.text


async def test_one_keys_contacts_are_invisible_to_another_key() -> None:
    sim = TelliSimulator(api_keys=("key-a", "key-b"))
    async with (
        httpx2.AsyncClient(transport=sim.transport(), base_url=BASE_URL, headers={"Authorization": "key-a"}) as a,
        httpx2.AsyncClient(transport=sim.transport(), base_url=BASE_URL, headers={"Authorization": "key-b"}) as b,
    ):
        created = await create_contact(a, externalId="shared-ext")
        assert (await b.get(f"/v2/contacts/{created['id']}")).status_code == 404
        assert (await b.get(f"/v1/get-contact/{created['id']}")).status_code == 404
        assert (await b.get("/v2/external/contacts/shared-ext")).status_code == 404
        assert (await b.get("/v2/contacts")).json()["data"] == []
        # The same external id is free in the other tenant.
        assert (await b.post("/v2/contacts", json=contact_body(externalId="shared-ext"))).status_code == 201


async def test_the_request_log_labels_accounts_and_never_stores_the_key(sim: TelliSimulator) -> None:
    async with httpx2.AsyncClient(transport=sim.transport(), base_url=BASE_URL) as http:
        await http.get("/v1/verify-api-key", headers={"Authorization": f"Bearer {TEST_API_KEY}"})
        await http.get("/v1/verify-api-key", headers={"Authorization": "Bearer unknown"})
    assert [entry.account for entry in sim.request_log] == ["acct-1", None]
    assert TEST_API_KEY not in repr(sim.request_log)
    assert "unknown" not in repr(sim.request_log)
    assert TEST_API_KEY not in repr(sim)
