"""Plain helpers of the simulator contract tests (fixtures live in conftest.py)."""

from __future__ import annotations

from typing import Any

import httpx2

BASE_URL = "https://api.telli.com"


def contact_body(**overrides: Any) -> dict[str, Any]:
    """A valid v2 create body with fictional data."""
    body: dict[str, Any] = {"firstName": "Ada", "lastName": "Lovelace", "phoneNumber": "+15550123"}
    body.update(overrides)
    return body


def v1_contact_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_contact_id": "ext-1",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "phone_number": "+15550123",
    }
    body.update(overrides)
    return body


async def create_contact(client: httpx2.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/v2/contacts", json=contact_body(**overrides))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def client_for(transport: httpx2.AsyncBaseTransport, api_key: str) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=transport, base_url=BASE_URL, headers={"Authorization": api_key})
