"""Campaign tools through MCP: dry run, confirmed launch, resume without double calls, status, stop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from server_helpers import Answers, ServerFactory, connect, fails, first_agent_id, ok, writes

from telli_mcp.simulator import TEST_API_KEY, TelliSimulator

pytestmark = pytest.mark.anyio

EXAMPLE_CSV = Path(__file__).parents[2] / "examples" / "leads.csv"


def _leads(count: int) -> list[dict[str, Any]]:
    return [{"phone_number": f"+4930555{n:05d}", "first_name": "Lead", "last_name": f"No{n}"} for n in range(count)]


@pytest.fixture
def make(make_server: ServerFactory, tmp_path: Path) -> ServerFactory:
    def build(**overrides: Any) -> Any:
        return make_server(data_dir=str(tmp_path), **overrides)

    return build


async def test_dry_run_reports_valid_and_invalid_leads_and_sends_nothing(
    make: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    leads = [*_leads(3), {"phone_number": "12", "first_name": "Bad", "last_name": "Number"}, _leads(1)[0]]
    async with connect(make(), mode) as client:
        report = await ok(
            client, "start_campaign", {"agent_id": await first_agent_id(client), "leads": leads, "dry_run": True}
        )
    assert report["status"] == "dry_run"
    assert report["valid_leads"] == 3 and report["invalid_leads"] == 2
    assert any(issue.startswith("row 4:") for issue in report["invalid"])
    assert any("duplicate of row 1" in issue for issue in report["invalid"])
    assert writes(sim) == []


async def test_example_csv_validates_cleanly(make: ServerFactory) -> None:
    async with connect(make(), "auto") as client:
        report = await ok(
            client,
            "start_campaign",
            {
                "agent_id": await first_agent_id(client),
                "leads_file": str(EXAMPLE_CSV),
                "default_region": "US",
                "dry_run": True,
            },
        )
    assert report["valid_leads"] >= 10 and report["invalid_leads"] == 0 and report["blocking_reasons"] == []


async def test_confirmed_campaign_schedules_everyone_once_and_reports_progress(
    make: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    answers = Answers("accept")
    progress: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, _message: str | None) -> None:
        progress.append((done, total))

    async with connect(make(), mode, answers) as client:
        agent_id = await first_agent_id(client)
        started = await client.call_tool(
            "start_campaign",
            {"agent_id": agent_id, "leads": _leads(120), "name": "Spring"},
            progress_callback=on_progress,
        )
        result = started.structured_content or {}
        await sim.advance(2 * 24 * 3600)
        status = await ok(client, "get_campaign", {"campaign_id": result["campaign_id"]})
        listed = await ok(client, "list_campaigns")
    assert result["scheduled_total"] == 120 and result["failed"] == 0
    assert "120 contacts" in answers.questions[0] and '"Spring"' in answers.questions[0]
    assert writes(sim).count("POST /v1/schedule-calls-batch") == 3
    assert writes(sim).count("POST /v1/add-contacts-batch") == 1
    assert progress
    assert sum(status["contacts"].values()) == 120 and status["progress_percent"] > 0
    assert [c["campaign_id"] for c in listed["campaigns"]] == [result["campaign_id"]]


async def test_token_flow_and_a_rerun_of_the_same_leads_resumes_without_calling_twice(
    make: ServerFactory, sim: TelliSimulator
) -> None:
    async with connect(make(), "auto") as client:
        args = {"agent_id": await first_agent_id(client), "leads": _leads(60)}
        preview = await ok(client, "start_campaign", args)
        assert preview["status"] == "confirmation_required" and writes(sim) == []
        first = await ok(client, "start_campaign", {**args, "confirmation_token": preview["confirmation_token"]})
        again = await ok(client, "start_campaign", args)
        second = await ok(client, "start_campaign", {**args, "confirmation_token": again["confirmation_token"]})
    assert first["scheduled_now"] == 60
    assert second["campaign_id"] == first["campaign_id"] and second["scheduled_now"] == 0
    assert writes(sim).count("POST /v1/schedule-calls-batch") == 2


async def test_declined_campaign_sends_nothing(make: ServerFactory, sim: TelliSimulator, mode: str) -> None:
    async with connect(make(), mode, Answers("decline")) as client:
        error = await fails(client, "start_campaign", {"agent_id": await first_agent_id(client), "leads": _leads(2)})
    assert "Nothing was done" in error and writes(sim) == []


async def test_stop_removes_pending_contacts_and_is_idempotent(make: ServerFactory, sim: TelliSimulator) -> None:
    async with connect(make(confirm="off"), "auto") as client:
        run = await ok(client, "start_campaign", {"agent_id": await first_agent_id(client), "leads": _leads(5)})
        first = await ok(client, "stop_campaign", {"campaign_id": run["campaign_id"]})
        before = len(writes(sim))
        second = await ok(client, "stop_campaign", {"campaign_id": run["campaign_id"]})
    assert first["removed_now"] == 5 and first["status"] == "stopped"
    assert second["removed_now"] == 0 and len(writes(sim)) == before


async def test_over_http_leads_files_are_refused(make_server: ServerFactory, sim: TelliSimulator) -> None:
    from telli_mcp.backend import Backend
    from telli_mcp.config import Settings
    from telli_mcp.server import build_server

    server = build_server(Backend.simulated(Settings(api_key=TEST_API_KEY), sim), remote=True)
    async with connect(server, "auto") as client:
        error = await fails(
            client,
            "start_campaign",
            {"agent_id": await first_agent_id(client), "leads_file": "/etc/passwd", "dry_run": True},
        )
    assert "not available over HTTP" in error


async def test_unknown_campaign_is_a_clear_error(make: ServerFactory) -> None:
    async with connect(make(), "auto") as client:
        error = await fails(client, "get_campaign", {"campaign_id": "no-such-campaign"})
    assert "no-such-campaign" in error


async def test_campaign_resource_shows_the_live_status(make: ServerFactory) -> None:
    import json

    from mcp.types import TextResourceContents

    async with connect(make(confirm="off"), "auto") as client:
        run = await ok(client, "start_campaign", {"agent_id": await first_agent_id(client), "leads": _leads(3)})
        contents = (await client.read_resource(f"telli://campaigns/{run['campaign_id']}")).contents
        templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
    assert isinstance(contents[0], TextResourceContents)
    body = json.loads(contents[0].text)
    assert body["campaign"]["campaign_id"] == run["campaign_id"] and sum(body["contacts"].values()) == 3
    assert "telli://campaigns/{campaign_id}" in templates


async def test_a_completed_campaign_says_telli_is_still_dialling_until_no_contact_is_left(
    make: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(make(), mode, Answers("accept")) as client:
        agent_id = await first_agent_id(client)
        started = await ok(client, "start_campaign", {"agent_id": agent_id, "leads": _leads(4)})
        dialling = await ok(client, "get_campaign", {"campaign_id": started["campaign_id"]})
    await sim.advance(14 * 24 * 3600)  # past every retry day: the dialer is done with everyone
    async with connect(make(), mode) as client:  # same ledger, a server whose short cache is still empty
        done = await ok(client, "get_campaign", {"campaign_id": started["campaign_id"]})
    assert dialling["status"] == "completed" and dialling["contacts"]["pending"] == 4
    assert dialling["note"].startswith("Dialer: 4 of 4 contacts still pending in telli's auto-dialer.")
    assert done["status"] == "completed" and done["contacts"]["pending"] == 0
    assert done["note"].startswith("Dialer: no contact is left in telli's auto-dialer.")


async def test_the_status_right_after_a_stop_shows_the_stop_not_a_cached_page(
    make: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(make(), mode, Answers("accept")) as client:
        started = await ok(client, "start_campaign", {"agent_id": await first_agent_id(client), "leads": _leads(4)})
        before = await ok(client, "get_campaign", {"campaign_id": started["campaign_id"]})
        await ok(client, "stop_campaign", {"campaign_id": started["campaign_id"]})
        after = await ok(client, "get_campaign", {"campaign_id": started["campaign_id"]})  # within the cache's TTL
    assert before["contacts"]["pending"] == 4
    assert after["status"] == "stopped" and after["contacts"]["pending"] == 0


async def test_the_status_right_after_another_tool_changed_a_contact_is_not_a_cached_page(
    make: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(make(), mode, Answers("accept")) as client:
        started = await ok(client, "start_campaign", {"agent_id": await first_agent_id(client), "leads": _leads(4)})
        before = await ok(client, "get_campaign", {"campaign_id": started["campaign_id"]})
        [lead] = [c.id for c in sim.account(TEST_API_KEY).contacts.values() if c.phone_number == "+493055500000"]
        await ok(client, "cancel_scheduled_calls", {"contact_ids": [lead]})
        after = await ok(client, "get_campaign", {"campaign_id": started["campaign_id"]})  # within the cache's TTL
    assert before["contacts"]["pending"] == 4
    assert after["contacts"]["pending"] == 3
