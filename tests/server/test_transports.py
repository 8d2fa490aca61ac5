"""The installed `telli-mcp` command: stdio sandbox and streamable HTTP, in subprocesses on loopback."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp_helpers import initialize_request
from server_helpers import Answers, ok

pytestmark = pytest.mark.anyio

COMMAND = shutil.which("telli-mcp", path=str(Path(sys.executable).parent)) or "telli-mcp"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELLI_")}
    return {**env, **extra}


async def test_stdio_sandbox_lists_tools_and_runs_a_scheduled_call_to_the_end() -> None:
    params = StdioServerParameters(command=COMMAND, args=["--sandbox"], env=_env())
    async with Client(params, elicitation_callback=Answers("accept")) as client:
        assert client.server_info.title == "telli (sandbox)"
        names = {tool.name for tool in (await client.list_tools()).tools}
        created = await ok(
            client, "create_contact", {"first_name": "Ida", "last_name": "Roth", "phone_number": "+4930901820" + "42"}
        )
        agent_id = (await ok(client, "list_agents"))["agents"][0]["agent_id"]
        await ok(client, "schedule_calls", {"contact_ids": [created["contact_id"]], "agent_id": agent_id})
        await ok(client, "advance_sandbox_clock", {"minutes": 60 * 24})
        calls = await ok(client, "list_calls", {"contact_id": created["contact_id"]})
        transcript = await ok(client, "get_call_transcript", {"call_id": calls["calls"][-1]["call_id"]})
    assert {"schedule_calls", "advance_sandbox_clock", "get_status"} <= names
    assert calls["calls"] and transcript["total_chars"] >= 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def http_sandbox() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [COMMAND, "--sandbox", "--transport", "http", "--port", str(port)],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def _wait_for_port(url: str) -> None:
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    with anyio.fail_after(20):
        while True:
            try:
                stream = await anyio.connect_tcp("127.0.0.1", port)
            except OSError:
                await anyio.sleep(0.1)
                continue
            await stream.aclose()
            return


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_streamable_http_serves_both_protocol_eras(http_sandbox: str, mode: str) -> None:
    await _wait_for_port(http_sandbox)
    async with Client(http_sandbox, mode=mode) as client:
        status = await ok(client, "get_status")
    assert status["sandbox"] is True and status["key_valid"] is True


async def test_http_requests_bring_their_own_telli_key_and_a_key_telli_rejects_gets_401(http_sandbox: str) -> None:
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    await _wait_for_port(http_sandbox)
    async with (
        httpx2.AsyncClient(headers={"Authorization": "Bearer telli-sandbox-demo-key"}) as http,
        Client(streamable_http_client(http_sandbox, http_client=http)) as client,
    ):
        demo = await ok(client, "get_status")
        agents = await client.call_tool("list_agents", {})
    async with httpx2.AsyncClient() as http:
        other = await http.post(
            http_sandbox,
            json=initialize_request("t"),
            headers={"Authorization": "Bearer someone-elses-key-0000", "Accept": "application/json, text/event-stream"},
            timeout=10,
        )
    assert demo["key_valid"] is True and agents.is_error is False
    assert other.status_code == 401 and 'error="invalid_token"' in other.headers["www-authenticate"]
    assert "someone-elses-key-0000" not in other.text


def test_dns_rebinding_protection_is_on_for_every_bind_and_takes_configured_hosts() -> None:
    from telli_mcp.config import Settings
    from telli_mcp.server.http_deployment import transport_security

    public = transport_security(Settings(), "0.0.0.0")
    listed = transport_security(
        Settings(allowed_hosts="mcp.example.com:*", allowed_origins="https://app.example.com"), "0.0.0.0"
    )
    off = transport_security(Settings(allowed_hosts="*"), "0.0.0.0")
    assert public.enable_dns_rebinding_protection and "localhost:*" in public.allowed_hosts
    assert "mcp.example.com:*" in listed.allowed_hosts and "https://app.example.com" in listed.allowed_origins
    assert off.enable_dns_rebinding_protection is False


def test_http_mode_says_where_it_listens(tmp_path: Path) -> None:
    port = _free_port()
    errlog = (tmp_path / "stderr.log").open("wb")
    process = subprocess.Popen(
        [COMMAND, "--sandbox", "--transport", "http", "--port", str(port)],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=errlog,
    )
    try:
        anyio.run(_wait_for_port, f"http://127.0.0.1:{port}/mcp")
    finally:
        process.terminate()
        process.wait(timeout=10)
        errlog.close()
    said = (tmp_path / "stderr.log").read_text()
    assert f"telli-mcp listening on http://127.0.0.1:{port}/mcp (health: /healthz)" in said
