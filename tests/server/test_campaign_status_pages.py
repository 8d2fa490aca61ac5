"""get_campaign on a large campaign, through MCP: each page reads only its own leads from telli, and the
page asked for again right away reads nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from server_helpers import Answers, ServerFactory, connect, first_agent_id, ok

from telli_mcp.campaigns.status import WINDOW
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator

pytestmark = pytest.mark.anyio

LEADS = WINDOW + 200


def _leads(count: int) -> list[dict[str, Any]]:
    return [{"phone_number": f"+4930555{n:05d}", "first_name": "Lead", "last_name": f"No{n}"} for n in range(count)]


def _read_ids(sim: TelliSimulator, since: int) -> list[str]:
    return [
        contact_id
        for entry in sim.request_log[since:]
        if entry.path == "/v1/get-contacts-batch"
        for contact_id in entry.body["contact_ids"]
    ]


async def test_each_status_page_reads_only_its_leads_and_a_repeat_reads_nothing(
    make_server: ServerFactory, sim: TelliSimulator, tmp_path: Path, mode: str
) -> None:
    async with connect(make_server(data_dir=str(tmp_path)), mode, Answers("accept")) as client:
        started = await ok(client, "start_campaign", {"agent_id": await first_agent_id(client), "leads": _leads(LEADS)})
        campaign_id = started["campaign_id"]
        by_phone = {
            contact.phone_number: contact_id for contact_id, contact in sim.account(TEST_API_KEY).contacts.items()
        }
        expected = [by_phone[lead["phone_number"]] for lead in _leads(LEADS)]

        since = len(sim.request_log)
        first = await ok(client, "get_campaign", {"campaign_id": campaign_id})
        first_reads = _read_ids(sim, since)
        since = len(sim.request_log)
        second = await ok(client, "get_campaign", {"campaign_id": campaign_id, "cursor": first["next_cursor"]})
        second_reads = _read_ids(sim, since)
        since = len(sim.request_log)
        again = await ok(client, "get_campaign", {"campaign_id": campaign_id})

    assert started["scheduled_total"] == LEADS
    assert first_reads == expected[:WINDOW] and second_reads == expected[WINDOW:]
    assert sum(first["contacts"].values()) == WINDOW and sum(second["contacts"].values()) == LEADS - WINDOW
    assert second["next_cursor"] is None
    assert len(sim.request_log) == since, "the same page asked again at once is served from what telli just said"
    assert again["contacts"] == first["contacts"]
