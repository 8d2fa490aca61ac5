"""Tenant isolation in one HTTP deployment: clients with different telli keys never see each other's data.

One HTTP simulator subprocess holds three accounts (each seeded with its own demo data: ids derive from the
account, so no two tenants share one). One `telli-mcp --transport http` subprocess points at it with NO
key of its own; every client brings its key as `Authorization: Bearer <key>`. The tenants work at the same
time, so the server's per-key client cache is exercised interleaved.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextContent
from mcp_helpers import initialize_request

pytestmark = pytest.mark.anyio

KEYS = ("tenant-alpha-key-0001", "tenant-bravo-key-0002", "tenant-charlie-key-03")
COMMAND = shutil.which("telli-mcp", path=str(Path(sys.executable).parent)) or "telli-mcp"
READY_SECONDS = 30.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("TELLI_")}, **extra}


def _wait_until_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    """Bounded readiness wait on the TCP port (a GET on /mcp may hold an SSE stream open)."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, f"process exited with {process.returncode}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listened on port {port} within {READY_SECONDS} s")


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    sim_port, mcp_port = _free_port(), _free_port()
    launcher = (
        "from telli_mcp.simulator.serve import run_simulator; "
        f"run_simulator(host='127.0.0.1', port={sim_port}, seed_demo=True, api_keys={KEYS!r})"
    )
    simulator = subprocess.Popen(
        [sys.executable, "-c", launcher], env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    server = subprocess.Popen(
        [COMMAND, "--transport", "http", "--port", str(mcp_port)],
        env=_env(TELLI_API_BASE_URL=f"http://127.0.0.1:{sim_port}", TELLI_MCP_CONFIRM="off"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_listening(sim_port, simulator)
        _wait_until_listening(mcp_port, server)
        yield f"http://127.0.0.1:{mcp_port}/mcp"
    finally:
        for process in (server, simulator):
            process.terminate()
            process.wait(timeout=10)


@asynccontextmanager
async def tenant(url: str, key: str | None, mode: str = "auto") -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,
    ):
        yield client


def _text(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


async def _ok(client: Client, tool: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    result = await client.call_tool(tool, args or {})
    assert not result.is_error, f"{tool} failed: {_text(result)}"
    content: dict[str, Any] | None = result.structured_content
    assert content is not None
    return content


async def _view(url: str, key: str, number: int) -> dict[str, set[str]]:
    """Create three contacts as this tenant, then read back everything the tenant can see."""
    async with tenant(url, key) as client:
        created = set()
        for index in range(3):
            saved = await _ok(
                client,
                "create_contact",
                {
                    "first_name": f"Tenant{number}",
                    "last_name": f"Lead{index}",
                    "phone_number": f"+49309018{number}{index}99",
                    "external_id": f"iso-{number}-{index}",
                },
            )
            created.add(saved["contact_id"])
        contacts = await _ok(client, "list_contacts", {"limit": 100})
        calls = await _ok(client, "list_calls", {"limit": 100})
        agents = await _ok(client, "list_agents")
    return {
        "created": created,
        "contacts": {c["contact_id"] for c in contacts["contacts"]},
        "calls": {c["call_id"] for c in calls["calls"]},
        "agents": {a["agent_id"] for a in agents["agents"]},
    }


async def _views_at_once(url: str) -> dict[str, dict[str, set[str]]]:
    views: dict[str, dict[str, set[str]]] = {}

    async def collect(key: str, number: int) -> None:
        views[key] = await _view(url, key, number)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tasks:
            for number, key in enumerate(KEYS):
                tasks.start_soon(collect, key, number)
    return views


async def test_tenants_working_at_once_see_only_their_own_contacts_calls_and_agents(server_url: str) -> None:
    views = await _views_at_once(server_url)
    for key, view in views.items():
        assert view["created"] <= view["contacts"], "a tenant must see the contacts it created"
        assert view["calls"] and view["agents"], "each tenant has its own seeded calls and agents"
        for other_key, other in views.items():
            if other_key == key:
                continue
            for kind in ("contacts", "calls", "agents"):
                assert not view[kind] & other[kind], f"{kind} shared between two tenants"


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_tenant_cannot_read_another_tenants_records_by_id(server_url: str, mode: str) -> None:
    async with tenant(server_url, KEYS[0], mode) as alpha, tenant(server_url, KEYS[1], mode) as bravo:
        alpha_contact = (await _ok(alpha, "get_contact", {"external_id": "crm-123"}))["contact_id"]
        bravo_contact = (await _ok(bravo, "get_contact", {"external_id": "crm-123"}))["contact_id"]
        alpha_call = (await _ok(alpha, "list_calls", {"limit": 1}))["calls"][0]["call_id"]
        stolen_contact = await bravo.call_tool("get_contact", {"contact_id": alpha_contact})
        stolen_call = await bravo.call_tool("get_call", {"call_id": alpha_call})
        own_call = await alpha.call_tool("get_call", {"call_id": alpha_call})
    assert alpha_contact != bravo_contact, "the same external id resolves to each tenant's own contact"
    assert stolen_contact.is_error and "Not found" in _text(stolen_contact)
    assert stolen_call.is_error and "no finished call" in _text(stolen_call)
    assert not own_call.is_error


async def test_a_request_without_a_key_reaches_no_tenant(server_url: str) -> None:
    # The server has no key of its own, so a request without one is refused at the door, before any MCP message.
    initialize = initialize_request("anonymous")
    async with httpx2.AsyncClient() as http:
        response = await http.post(
            server_url, json=initialize, timeout=10, headers={"Accept": "application/json, text/event-stream"}
        )
    assert response.status_code == 401 and response.headers["www-authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in response.text
