"""Tenants are isolated in HTTP mode, on every surface, with the operator's own key configured on the server.

The finding: with TELLI_API_KEY set on the server, completions and the `telli://properties` resource answered
from the operator's account whatever key the caller brought, and an `Authorization` header with another
scheme (Basic, Token, a bare key) silently fell back to the operator key.

Here one simulator holds three accounts (two tenants and the operator; seeded ids derive from the account,
so no two share one) and the real HTTP app (`serve.http_app`, as `telli-mcp --transport http` builds it)
runs on loopback. Each tenant walks every surface: tools, a resource template, the static resource,
completions for a resource template and for a prompt, and a prompt. The simulator's request log then shows
which account each telli request was made for: a tenant's requests must all be its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import pytest
from evidence_helpers import MODES, no_sleep
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import PromptReference, ResourceTemplateReference, TextResourceContents
from mcp_helpers import MCP_HEADERS, initialize_request
from process_helpers import serving

from telli_mcp.backend import Backend
from telli_mcp.config import ServerKeyUse, Settings
from telli_mcp.serve import http_app
from telli_mcp.server import build_server
from telli_mcp.server.http_auth import anonymous_may_use_server_key
from telli_mcp.simulator import TelliSimulator

pytestmark = pytest.mark.anyio

ALPHA, BRAVO, OPERATOR = "tenant-alpha-key-0001", "tenant-bravo-key-0002", "operator-key-0003"
INITIALIZE = initialize_request("probe")


@pytest.fixture
def sim() -> TelliSimulator:
    return TelliSimulator(api_keys=(ALPHA, BRAVO, OPERATOR), seed_demo=True)


@asynccontextmanager
async def _served(sim: TelliSimulator, *, verify: bool = False, **settings: Any) -> AsyncIterator[str]:
    """The HTTP deployment over `sim`, with the operator's key configured, on a loopback port; with `verify`, keys
    are checked with telli at the door (as `telli-mcp --transport http` does)."""
    config = Settings(api_key=OPERATOR, toolsets=("default",), **settings)
    backend = Backend.simulated(config, sim, sleep=no_sleep)
    app = http_app(build_server(backend), config, "127.0.0.1", verify_key=backend.verify_key if verify else None)
    with serving(app, lifespan="on") as base:
        yield f"{base}/mcp"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _account(sim: TelliSimulator, key: str) -> str:
    return sim.account(key).label


@asynccontextmanager
async def _tenant(url: str, key: str | None, mode: str) -> AsyncIterator[Client]:
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    async with (
        httpx2.AsyncClient(headers=headers) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,
    ):
        yield client


async def _walk_every_surface(client: Client) -> dict[str, Any]:
    """Use each kind of MCP surface once; return what the caller saw."""
    contacts = (await client.call_tool("list_contacts", {"limit": 5})).structured_content or {}
    contact_id = contacts["contacts"][0]["contact_id"]
    contact = await client.read_resource(f"telli://contacts/{contact_id}")
    properties = await client.read_resource("telli://properties")
    template = ResourceTemplateReference(type="ref/resource", uri="telli://contacts/{contact_id}")
    completed_contacts = await client.complete(template, {"name": "contact_id", "value": ""})
    completed_calls = await client.complete(
        PromptReference(type="ref/prompt", name="review_call"), {"name": "call_id", "value": ""}
    )
    prompt = await client.get_prompt("review_call", {"call_id": sorted(completed_calls.completion.values)[0]})
    return {
        "contact_ids": {c["contact_id"] for c in contacts["contacts"]},
        "contact_resource": _text(contact.contents),
        "properties": _text(properties.contents),
        "completed_contact_ids": set(completed_contacts.completion.values),
        "completed_call_ids": set(completed_calls.completion.values),
        "prompt": prompt.messages,
    }


def _text(contents: list[Any]) -> str:
    return "".join(item.text for item in contents if isinstance(item, TextResourceContents))


@pytest.mark.parametrize("mode", MODES)
async def test_every_surface_acts_for_the_caller_never_for_the_operator(sim: TelliSimulator, mode: str) -> None:
    seen: dict[str, dict[str, Any]] = {}
    accounts: dict[str, set[str | None]] = {}
    async with _served(sim) as url:
        for key in (ALPHA, BRAVO):
            before = len(sim.request_log)
            async with _tenant(url, key, mode) as client:
                seen[key] = await _walk_every_surface(client)
            accounts[key] = {entry.account for entry in sim.request_log[before:]}
    for key in (ALPHA, BRAVO):
        assert accounts[key] == {_account(sim, key)}, f"{key}'s requests went to {accounts[key]}"
        assert seen[key]["completed_contact_ids"], "completions returned nothing to compare"
        assert seen[key]["completed_contact_ids"] <= _contact_ids(sim, key)
        assert seen[key]["completed_call_ids"] <= _call_ids(sim, key) and seen[key]["completed_call_ids"]
        assert seen[key]["contact_ids"] <= _contact_ids(sim, key)
    assert not seen[ALPHA]["completed_contact_ids"] & seen[BRAVO]["completed_contact_ids"]


async def test_a_property_one_tenant_creates_is_invisible_to_the_other_and_the_operator(
    sim: TelliSimulator,
) -> None:
    async with _served(sim) as url:
        async with _tenant(url, ALPHA, "auto") as alpha:
            created = await alpha.call_tool(
                "create_contact_property", {"key": "alpha_only_tier", "data_type": "string", "label": "Tier"}
            )
            assert not created.is_error, created
            alpha_view = _text((await alpha.read_resource("telli://properties")).contents)
        async with _tenant(url, BRAVO, "legacy") as bravo:
            bravo_view = _text((await bravo.read_resource("telli://properties")).contents)
        async with _tenant(url, None, "auto") as operator:
            operator_view = _text((await operator.read_resource("telli://properties")).contents)
    assert "alpha_only_tier" in alpha_view
    assert "alpha_only_tier" not in bravo_view and "alpha_only_tier" not in operator_view


async def test_a_tenant_cannot_read_another_tenants_contact_by_id(sim: TelliSimulator) -> None:
    alpha_contact = sorted(_contact_ids(sim, ALPHA))[0]
    async with _served(sim) as url, _tenant(url, BRAVO, "auto") as bravo:
        tool = await bravo.call_tool("get_contact", {"contact_id": alpha_contact})
        completed = await bravo.complete(
            ResourceTemplateReference(type="ref/resource", uri="telli://contacts/{contact_id}"),
            {"name": "contact_id", "value": alpha_contact[:8]},
        )
    assert tool.is_error and "not found" in str(tool.content).lower()
    assert alpha_contact not in completed.completion.values


@pytest.mark.parametrize(
    "authorization",
    [
        ["Basic dGVuYW50LWFscGhhOmtleQ=="],
        ["Token tenant-alpha-key-0001"],
        ["tenant-alpha-key-0001"],
        ["Bearer"],
        ["Bearer key,other"],
        ["Bearer two words"],
        ["Bearer tenant-alpha-key-0001", "Bearer tenant-bravo-key-0002"],
    ],
    ids=["basic", "token-scheme", "bare-key", "no-token", "comma", "spaces", "two-headers"],
)
async def test_a_malformed_authorization_is_refused_never_replaced_by_the_server_key(
    sim: TelliSimulator, authorization: list[str]
) -> None:
    async with _served(sim, server_key_over_http=ServerKeyUse.ALLOW) as url, httpx2.AsyncClient() as http:
        headers = [*MCP_HEADERS.items(), *(("Authorization", value) for value in authorization)]
        response = await http.post(url, json=INITIALIZE, headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer realm="telli-mcp"')
    assert "invalid_request" in response.headers["www-authenticate"]
    assert "tenant-alpha-key" not in response.text
    assert sim.request_log == []


async def test_without_authorization_the_server_key_is_used_only_where_the_operator_allows_it(
    sim: TelliSimulator,
) -> None:
    async with _served(sim, server_key_over_http=ServerKeyUse.REFUSE) as url, httpx2.AsyncClient() as http:
        refused = await http.post(url, json=INITIALIZE, headers=MCP_HEADERS, timeout=10)
    async with _served(sim) as url, _tenant(url, None, "auto") as anonymous:
        allowed = await anonymous.call_tool("list_contacts", {"limit": 1})
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == 'Bearer realm="telli-mcp"'
    assert not allowed.is_error
    assert {entry.account for entry in sim.request_log} == {_account(sim, OPERATOR)}


def test_auto_lets_only_a_loopback_bind_use_the_server_key_for_requests_without_authorization() -> None:
    keyed = Settings(api_key=OPERATOR)
    assert anonymous_may_use_server_key(keyed, "127.0.0.1") and anonymous_may_use_server_key(keyed, "::1")
    assert anonymous_may_use_server_key(keyed, "localhost")
    assert not anonymous_may_use_server_key(keyed, "0.0.0.0")
    assert not anonymous_may_use_server_key(keyed, "192.0.2.10")
    assert anonymous_may_use_server_key(Settings(api_key=OPERATOR, server_key_over_http="allow"), "0.0.0.0")
    assert not anonymous_may_use_server_key(Settings(api_key=OPERATOR, server_key_over_http="refuse"), "127.0.0.1")
    assert not anonymous_may_use_server_key(Settings(), "127.0.0.1")


def _contact_ids(sim: TelliSimulator, key: str) -> set[str]:
    return set(sim.account(key).contacts)


def _call_ids(sim: TelliSimulator, key: str) -> set[str]:
    return set(sim.account(key).calls)


async def test_a_key_telli_rejects_is_refused_at_the_door_and_each_verdict_costs_one_request(
    sim: TelliSimulator,
) -> None:
    async with _served(sim, verify=True) as url, httpx2.AsyncClient() as http:
        unknown = {**MCP_HEADERS, "Authorization": "Bearer unknown-key-0009"}
        rejected = await http.post(url, json=INITIALIZE, headers=unknown, timeout=10)
        async with _tenant(url, ALPHA, "legacy") as alpha:  # several HTTP requests with one key
            listed = await alpha.call_tool("list_contacts", {"limit": 1})
            await alpha.call_tool("list_agents", {})
    assert rejected.status_code == 401 and 'error="invalid_token"' in rejected.headers["www-authenticate"]
    assert "unknown-key-0009" not in rejected.text and not listed.is_error
    verifications = sim.requests_to("GET", "/v1/verify-api-key")
    assert [entry.account for entry in verifications] == [None, _account(sim, ALPHA)]
    assert not [entry for entry in sim.request_log if entry.account is None and entry.path != "/v1/verify-api-key"]
