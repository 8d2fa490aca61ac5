"""telli's webhook events reach every replica: an event delivered to replica 1 is heard by a client listening on
replica 2 (`subscriptions/listen`, the 2026-07-28 era), and a call result waited for on replica 2 arrives from it.

Both replicas receive the account's webhooks (TELLI_API_KEY with its TELLI_MCP_WEBHOOK_SECRET) and store them in the
shared PostgreSQL; each replica's relay hears the others' events over LISTEN/NOTIFY. The test delivers to replica 1
directly (not through the balancer), so which replica received the event is known, and talks to replica 2 directly.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import anyio
import httpx2
import pytest
from deployment import STEP_SECONDS, Deployment, mcp_client, ok
from mcp.client.subscriptions import ResourceUpdated
from pydantic import SecretStr

from telli_mcp.simulator import TEST_API_KEY
from telli_mcp.webhooks import signed_headers

pytestmark = pytest.mark.anyio
SECRET = SecretStr("whsec_" + base64.b64encode(b"replicas-share-this-signing-key!").decode())


@pytest.fixture
def replica_env() -> dict[str, str]:
    return {"TELLI_API_KEY": TEST_API_KEY, "TELLI_MCP_WEBHOOK_SECRET": SECRET.get_secret_value()}


def _call_ended(contact_id: str, call_id: str) -> dict[str, Any]:
    """A `call_ended` event as telli documents it (telli-api.md §3.5), with fictional numbers."""
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    return {
        "event": "call_ended",
        "call": {
            "call_id": call_id,
            "attempt": 1,
            "from_number": "+15555550100",
            "to_number": "+15555550142",
            "contact_id": contact_id,
            "agent_id": str(uuid.uuid4()),
            "triggered_at": now_ms - 60_000,
            "ended_at": now_ms,
            "call_status": "COMPLETED",
            "transcript": "Agent: Hello, this is a test call.",
            "transcriptObject": [{"role": "agent", "content": "Hello, this is a test call."}],
        },
        "contact": {"contact_id": contact_id, "status": "reached", "call_attempts": 1},
    }


async def _deliver(replica_port: int, payload: dict[str, Any]) -> int:
    body = json.dumps(payload).encode()
    headers = signed_headers(SECRET, f"msg_{uuid.uuid4().hex}", datetime.now(UTC), body)
    async with httpx2.AsyncClient(timeout=STEP_SECONDS) as http:
        response = await http.post(f"http://127.0.0.1:{replica_port}/webhooks/telli", content=body, headers=headers)
    return response.status_code


async def test_an_event_delivered_to_one_replica_is_heard_by_a_listener_on_the_other(deployment: Deployment) -> None:
    receiving, listening = deployment.replicas
    contact_id, call_id = str(uuid.uuid4()), str(uuid.uuid4())
    uri = f"telli://contacts/{contact_id}"
    heard: list[str] = []
    async with mcp_client(listening.url, TEST_API_KEY) as client:
        with anyio.fail_after(STEP_SECONDS):
            async with client.listen(resource_subscriptions=[uri]) as subscription:

                async def hear() -> None:
                    async for event in subscription:
                        if isinstance(event, ResourceUpdated):
                            heard.append(event.uri)
                            return

                async with anyio.create_task_group() as group:
                    group.start_soon(hear)
                    assert await _deliver(receiving.port, _call_ended(contact_id, call_id)) == 200
    assert heard == [uri]


async def test_a_call_result_waited_for_on_one_replica_arrives_from_an_event_delivered_to_the_other(
    deployment: Deployment,
) -> None:
    receiving, waiting = deployment.replicas
    contact_id, call_id = str(uuid.uuid4()), str(uuid.uuid4())
    async with mcp_client(waiting.url, TEST_API_KEY) as client, anyio.create_task_group() as group:
        results: list[dict[str, Any]] = []

        async def wait() -> None:
            args = {"call_id": call_id, "timeout_seconds": 30}
            results.append(await ok(client, "wait_for_call_result", args, within=STEP_SECONDS))

        group.start_soon(wait)
        assert await _deliver(receiving.port, _call_ended(contact_id, call_id)) == 200
    [result] = results
    assert result["ended"] is True and result["call"]["call_id"] == call_id, result
    assert "learned from telli's webhook" in result["note"], result
