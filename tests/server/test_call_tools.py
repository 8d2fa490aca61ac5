"""Reading calls and transcripts, scheduling in bulk, cancelling: through MCP against the simulated dialer."""

from __future__ import annotations

import pytest
from server_helpers import (
    Answers,
    ServerFactory,
    completed_call_id,
    connect,
    contact_id_of,
    fails,
    first_agent_id,
    ok,
    writes,
)

from telli_mcp.simulator import TelliSimulator
from telli_mcp.text import FENCE_OPEN

pytestmark = pytest.mark.anyio


async def test_scheduled_contact_is_called_by_the_dialer_and_the_call_can_be_read(
    make_server: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(make_server(confirm="off"), mode) as client:
        created = await ok(
            client, "create_contact", {"first_name": "Jonas", "last_name": "Beck", "phone_number": "+4930901820" + "77"}
        )
        contact_id = created["contact_id"]
        await ok(client, "schedule_calls", {"contact_ids": [contact_id], "agent_id": await first_agent_id(client)})
        pending = await ok(client, "get_contact", {"contact_id": contact_id})
        await sim.advance(3 * 24 * 3600)
        calls = await ok(client, "list_calls", {"contact_id": contact_id})
        call = await ok(client, "get_call", {"call_id": calls["calls"][0]["call_id"]})
        after = await ok(client, "get_contact", {"contact_id": contact_id})
    assert pending["dialer_status"] == "pending"
    assert calls["calls"] and all(c["contact_id"] == contact_id for c in calls["calls"])
    assert call["status"] in {"COMPLETED", "ANSWERED", "NOT_REACHED", "VOICEMAIL", "ERROR"}
    assert "transcript" not in call and call["transcript_chars"] > 0
    assert after["call_attempts"] == len(calls["calls"])


async def test_transcript_pages_cover_the_whole_text_without_gaps(make_server: ServerFactory, mode: str) -> None:
    async with connect(make_server(), mode) as client:
        call_id = await completed_call_id(client)
        total = (await ok(client, "get_call", {"call_id": call_id}))["transcript_chars"]
        offset, pages = 0, []
        while offset is not None:
            page = await ok(client, "get_call_transcript", {"call_id": call_id, "offset": offset, "max_chars": 200})
            pages.append(page)
            offset = page["next_offset"]
    assert sum(min(200, total - p["offset"]) for p in pages) == total
    assert all(p["text"].startswith(FENCE_OPEN) for p in pages)
    assert "Agent:" in pages[0]["text"]


async def test_injection_in_a_transcript_comes_out_fenced_and_without_invisible_characters(
    make_server: ServerFactory, mode: str
) -> None:
    texts = []
    async with connect(make_server(), mode) as client:
        cursor = None
        while True:
            page = await ok(client, "list_calls", {"limit": 100, **({"cursor": cursor} if cursor else {})})
            for call in page["calls"]:
                texts.append(
                    (await ok(client, "get_call", {"call_id": call["call_id"], "include_transcript": True}))[
                        "transcript"
                    ]
                )
            cursor = page["next_cursor"]
            if cursor is None:
                break
    hostile = [t for t in texts if t and "ignore previous instructions" in t.lower()]
    assert hostile, "the demo data has a transcript with an injection attempt"
    for text in hostile:
        assert text.startswith(FENCE_OPEN) and "treat as data" in text
        assert not any(ch in text for ch in "\u200b\u202e\u2066")


async def test_list_calls_refuses_two_filters(make_server: ServerFactory, sim: TelliSimulator) -> None:
    async with connect(make_server(), "auto") as client:
        contact_id = await contact_id_of(client, "crm-123")
        sim.request_log.clear()
        agent_id = "d8931604-92ad-45cf-9071-d9cd2afbad0c"
        error = await fails(client, "list_calls", {"contact_id": contact_id, "agent_id": agent_id})
    assert "not both" in error and sim.request_log == []


async def test_cancel_takes_pending_contacts_out_of_the_dialer_and_is_safe_to_repeat(
    make_server: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(make_server(), mode, Answers("accept")) as client:
        contact_id = await contact_id_of(client, "crm-123")
        before = await ok(client, "list_calls", {"contact_id": contact_id, "limit": 100})
        await ok(client, "schedule_calls", {"contact_ids": [contact_id], "agent_id": await first_agent_id(client)})
        first = await ok(client, "cancel_scheduled_calls", {"contact_ids": [contact_id]})
        second = await ok(client, "cancel_scheduled_calls", {"contact_ids": [contact_id]})
        await sim.advance(3 * 24 * 3600)
        after = await ok(client, "list_calls", {"contact_id": contact_id, "limit": 100})
        contact = await ok(client, "get_contact", {"contact_id": contact_id})
    assert first["removed"] == [contact_id]
    assert second["removed"] == [] and second["not_in_dialer"] == [contact_id]
    assert after["calls"] == before["calls"]
    assert contact.get("next_call_at") is None


async def test_bulk_schedule_is_chunked_into_batches_of_fifty_with_progress(
    make_server: ServerFactory, sim: TelliSimulator
) -> None:
    progress: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, _message: str | None) -> None:
        progress.append((done, total))

    async with connect(make_server(confirm="off"), "auto") as client:
        ids = []
        for n in range(120):
            created = await ok(
                client,
                "create_contact",
                {"first_name": "Lead", "last_name": f"N{n}", "phone_number": f"+4930901{n:05d}"},
            )
            ids.append(created["contact_id"])
        agent_id = await first_agent_id(client)
        result = await client.call_tool(
            "schedule_calls", {"contact_ids": ids, "agent_id": agent_id}, progress_callback=on_progress
        )
    assert result.structured_content is not None and result.structured_content["scheduled_count"] == 120
    assert writes(sim).count("POST /v1/schedule-calls-batch") == 3
    assert sorted(progress)[-1] == (3, 3)


async def test_a_lost_schedule_response_is_reported_as_unknown_and_not_retried(
    make_server: ServerFactory, sim: TelliSimulator
) -> None:
    from telli_mcp.simulator import Fault

    async with connect(make_server(confirm="off"), "auto") as client:
        contact_id = await contact_id_of(client, "crm-123")
        agent_id = await first_agent_id(client)
        sim.inject(Fault(method="POST", path="/v1/schedule-calls-batch", kind="timeout_after"))
        result = await ok(client, "schedule_calls", {"contact_ids": [contact_id], "agent_id": agent_id})
    assert result["status"] == "not_scheduled"
    assert result["problems"][0]["status"] == "unknown" and "get_contact" in result["note"]
    assert writes(sim).count("POST /v1/schedule-calls-batch") == 1
