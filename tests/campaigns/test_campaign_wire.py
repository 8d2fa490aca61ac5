"""What a campaign sends: lead fields and settings the user left out are left out, never sent as null."""

from __future__ import annotations

from typing import Any

import pytest

from telli_mcp.campaigns import CampaignEngine, CampaignRequest
from telli_mcp.simulator import TelliSimulator

from .conftest import ADD_PATH, SCHEDULE_PATH, make_leads

pytestmark = pytest.mark.anyio


def _items(sim: TelliSimulator, path: str) -> list[dict[str, Any]]:
    return [item for entry in sim.requests_to("POST", path) for item in entry.body["contacts"]]


async def test_leads_without_optional_fields_and_no_retry_days_send_no_nulls(
    engine: CampaignEngine, sim: TelliSimulator, agent_id: str
) -> None:
    toll_free = {"first_name": "Tia", "last_name": "Free", "phone": "+1 800 555 0142"}
    await engine.start(CampaignRequest(agent_id=agent_id, leads=[*make_leads(3), toll_free]))
    created, scheduled = _items(sim, ADD_PATH), _items(sim, SCHEDULE_PATH)
    assert len(created) == len(scheduled) == 4
    assert all(None not in item.values() for item in created)
    assert {"email", "salutation", "external_url"}.isdisjoint(created[0])
    # A Berlin number has one zone, which is sent; a toll-free number has many, so telli's default applies.
    assert [item.get("timezone") for item in created] == ["Europe/Berlin"] * 3 + [None]
    assert [sorted(item) for item in scheduled] == [["agent_id", "contact_id"]] * 4


async def test_retry_days_set_to_zero_are_sent_as_zero(
    engine: CampaignEngine, sim: TelliSimulator, agent_id: str
) -> None:
    await engine.start(CampaignRequest(agent_id=agent_id, leads=make_leads(1), max_retry_days=0))
    assert [item["max_retry_days"] for item in _items(sim, SCHEDULE_PATH)] == [0]
