"""The apps in headless Chromium, fed by the sandbox server through the real `mcp.Client`: the numbers shown are the
tool's, hostile text stays text, the dashboard follows the simulated clock, stopping needs two clicks and goes
through stop_campaign, and the theme follows the host. Screenshots land in tests/apps/artefacts/."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from app_host import AppHost, apps_client_extensions, save_screenshot
from mcp import Client
from mcp.types import TextResourceContents
from mcp_helpers import Answers

from telli_mcp.backend import Backend, open_backend
from telli_mcp.config import Settings
from telli_mcp.server import build_server
from telli_mcp.simulator import DEMO_API_KEY, TEST_API_KEY, TelliSimulator
from telli_mcp.simulator.records import AnalysisField, TranscriptLine
from telli_mcp.text import FENCE_CLOSE

pytestmark = pytest.mark.anyio

LEADS = [{"first_name": f"Lead{n}", "last_name": "Test", "phone": f"+49 30 555 0{170 + n}"} for n in range(6)]
HOSTILE = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> ' + FENCE_CLOSE + " \u202eevil"
WAIT_MS = 20_000
"""How long a DOM condition may take to hold before the test fails (a hang guard, not a timing assertion)."""


@asynccontextmanager
async def sandbox() -> AsyncIterator[tuple[Client, Backend, TelliSimulator]]:
    backend = open_backend(Settings(sandbox=True), sandbox_speed=0)
    assert backend.sandbox is not None
    server = build_server(backend)
    options: dict[str, Any] = {"cache": None, "elicitation_callback": Answers("accept")}
    async with Client(server, extensions=apps_client_extensions(), **options) as client:
        yield client, backend, backend.sandbox.simulator


async def hosted(page: Any, client: Client) -> AppHost:
    host = AppHost(page, client)
    await host.start()
    return host


async def start_campaign(client: Client) -> str:
    agents = await client.call_tool("list_agents", {})
    agent_id = agents.structured_content["agents"][0]["agent_id"]  # type: ignore[index]
    run = await client.call_tool("start_campaign", {"agent_id": agent_id, "leads": LEADS})
    assert not run.is_error, run.content
    return str(run.structured_content["campaign_id"])  # type: ignore[index]


async def shown_counts(host: AppHost, section: str) -> dict[str, int]:
    """The numbers a section shows, by key, read from the DOM."""
    cells = host.app.locator(f"#{section} [data-key] [data-value]")
    keys = host.app.locator(f"#{section} [data-key]")
    return {
        str(await keys.nth(n).get_attribute("data-key")): int(str(await cells.nth(n).get_attribute("data-value")))
        for n in range(await keys.count())
    }


async def campaign_document(client: Client, campaign_id: str) -> dict[str, Any]:
    """The campaign resource, which the dashboard reads through the host for its timeline."""
    [content] = (await client.read_resource(f"telli://campaigns/{campaign_id}")).contents
    assert isinstance(content, TextResourceContents)
    return dict(json.loads(content.text))


async def shown_hours(host: AppHost) -> dict[int, int]:
    """The timeline's columns: calls by the hour's start (epoch ms), empty hours included."""
    bars = host.app.locator("#timeline svg rect[data-key]")
    return {
        int(str(await bars.nth(n).get_attribute("data-key"))): int(str(await bars.nth(n).get_attribute("data-value")))
        for n in range(await bars.count())
    }


async def assert_all_rendered(host: AppHost) -> None:
    """Nothing the app built shows as a JavaScript object's name instead of its text."""
    shown = await host.app.locator("main").inner_text()
    assert "[object" not in shown and "undefined" not in shown, shown


async def test_the_dashboard_shows_get_campaign_s_numbers_and_follows_the_sandbox_clock(page: Any) -> None:
    async with sandbox() as (client, _backend, sim):
        campaign_id = await start_campaign(client)
        host = await hosted(page, client)
        await page.clock.install()
        await host.open("get_campaign")
        first = (await host.show("get_campaign", {"campaign_id": campaign_id}))["structuredContent"]
        await host.app.locator("#percent").get_by_text("%").wait_for(timeout=WAIT_MS)

        assert await shown_counts(host, "contacts") == first["contacts"]
        assert await shown_counts(host, "outcomes") == first["outcomes"]
        assert await host.app.locator("#notable tbody tr").count() == len(first["notable"])

        await sim.advance(timedelta(days=3))
        await page.clock.run_for(31_000)  # the dashboard's own refresh timer, on the page's fake clock
        refreshed = await _wait_for_new_numbers(host, first["contacts"])
        now = (await client.call_tool("get_campaign", {"campaign_id": campaign_id})).structured_content
        assert now is not None
        assert refreshed == now["contacts"] != first["contacts"]
        assert await shown_counts(host, "outcomes") == now["outcomes"]
        assert [name for name, _ in host.calls if name == "get_campaign"], "the refresh did not call get_campaign"
        assert "stop_campaign" not in [name for name, _ in host.calls]
        await host.app.locator("#timeline [role='group']").wait_for(timeout=WAIT_MS)
        timeline = (await campaign_document(client, campaign_id))["calls_per_hour"]
        phones = {f"+49305550{170 + n}" for n in range(len(LEADS))}
        calls_made = [call for call in sim.account(DEMO_API_KEY).calls.values() if call.to_number in phones]
        hours = await shown_hours(host)
        ms = {
            int(datetime.fromisoformat(entry["hour"]).timestamp() * 1000): entry["calls"] for entry in timeline["hours"]
        }
        assert {hour: calls for hour, calls in hours.items() if calls} == ms
        assert sorted(hours) == list(range(min(ms), max(ms) + 1, 3_600_000)), "every hour between has its column"
        assert timeline["calls"] == sum(ms.values()) == len(calls_made) > len(LEADS)  # the sandbox's calls, retries too
        label = await host.app.locator("#timeline [role='group']").get_attribute("aria-label")
        assert label == f"Calls that ended per hour, {timeline['time_zone']} time"
        assert f"hours on {timeline['time_zone']} time" in await host.app.locator("#timeline").inner_text()
        await assert_all_rendered(host)
        await save_screenshot(page, "app-campaign")


async def test_without_webhook_events_the_dashboard_says_the_timeline_needs_them_and_draws_nothing(
    page: Any, tmp_path: Path
) -> None:
    sim = TelliSimulator(api_keys=(TEST_API_KEY,), seed_demo=True)
    backend = Backend.simulated(Settings(api_key=TEST_API_KEY, data_dir=str(tmp_path)), sim)
    options: dict[str, Any] = {"cache": None, "elicitation_callback": Answers("accept")}
    async with Client(build_server(backend), extensions=apps_client_extensions(), **options) as client:
        campaign_id = await start_campaign(client)
        await sim.advance(timedelta(days=3))
        assert sim.account(TEST_API_KEY).calls, "calls were made: a timeline would have had something to show"
        host = await hosted(page, client)
        await host.open("get_campaign")
        await host.show("get_campaign", {"campaign_id": campaign_id})
        why = host.app.locator("#timeline [data-unavailable]")
        await why.wait_for(timeout=WAIT_MS)

        timeline = (await campaign_document(client, campaign_id))["calls_per_hour"]
        assert timeline["hours"] == [] and timeline["calls"] == 0
        assert await why.inner_text() == timeline["unavailable"]
        assert "webhook events" in timeline["unavailable"] and "TELLI_MCP_WEBHOOK_SECRET" in timeline["unavailable"]
        assert await host.app.locator("#timeline svg, #timeline table").count() == 0
        await assert_all_rendered(host)
        await save_screenshot(page, "app-campaign-no-events", readme=False)


async def _wait_for_new_numbers(host: AppHost, before: dict[str, int]) -> dict[str, int]:
    """The contacts section once it shows other numbers than `before` (Playwright polls the DOM; no sleeping)."""
    frame = host.page.frames[1]
    await frame.wait_for_function(
        """(before) => {
            const shown = {};
            for (const item of document.querySelectorAll("#contacts [data-key]")) {
                shown[item.dataset.key] = Number(item.querySelector("[data-value]").dataset.value);
            }
            return JSON.stringify(shown) !== JSON.stringify(before) && Object.keys(shown).length > 0;
        }""",
        arg=before,
        timeout=WAIT_MS,
    )
    return await shown_counts(host, "contacts")


async def test_stopping_takes_two_deliberate_steps_and_goes_through_stop_campaign(page: Any) -> None:
    async with sandbox() as (client, _backend, _sim):
        campaign_id = await start_campaign(client)
        host = await hosted(page, client)
        await host.open("get_campaign")
        await host.show("get_campaign", {"campaign_id": campaign_id})
        stop, confirm = host.app.locator("#stop"), host.app.locator("#confirm")
        await stop.wait_for(timeout=WAIT_MS)

        await stop.focus()
        await page.keyboard.press("Enter")  # the keyboard opens the question ...
        await confirm.wait_for(timeout=WAIT_MS)
        await page.keyboard.press("Escape")  # ... and closes it: nothing was asked of the server
        await confirm.wait_for(state="hidden", timeout=WAIT_MS)
        assert "stop_campaign" not in [name for name, _ in host.calls]

        await stop.click()
        await host.app.locator("#confirm-stop").click()
        await host.app.locator("#status").get_by_text("stopped").wait_for(timeout=WAIT_MS)

    assert [args for name, args in host.calls if name == "stop_campaign"] == [{"campaign_id": campaign_id}]


def _hostile_call(sim: TelliSimulator) -> str:
    """A finished demo call whose transcript, summary and outcome are hostile; its id."""
    account = sim.account(DEMO_API_KEY)
    call = next(c for c in account.calls.values() if c.transcript)
    account.calls[call.call_id] = dataclasses.replace(
        call,
        transcript=(TranscriptLine("agent", "Hello, this is telli."), TranscriptLine("user", HOSTILE)),
        call_analysis={**call.call_analysis, "summary": AnalysisField(True, HOSTILE)},
        call_outcome={**call.call_outcome, HOSTILE: True},
    )
    return call.call_id


async def test_the_call_view_renders_a_hostile_call_as_inert_text(page: Any) -> None:
    async with sandbox() as (client, _backend, sim):
        call_id = _hostile_call(sim)
        host = await hosted(page, client)
        await host.open("get_call")
        shown = (await host.show("get_call", {"call_id": call_id}))["structuredContent"]
        turns = host.app.locator("#turns li")
        await turns.nth(1).wait_for(timeout=WAIT_MS)

        contact = await turns.nth(1).inner_text()
        assert "<script>window.pwned = 1</script>" in contact and "onerror" in contact
        assert "Agent" in await turns.nth(0).inner_text()
        assert "<script>" in await host.app.locator("#summary").inner_text()
        assert shown["call_id"] in await host.app.locator("#call-id").inner_text()
        assert await host.app.locator("main script, main img").count() == 0
        assert await page.frames[1].evaluate("window.pwned") is None
        assert [name for name, _ in host.calls] == ["get_call_transcript"]  # the transcript, read through the host
        assert "evil" in await host.app.locator("#outcome").inner_text()  # the hostile outcome name, as text
        await assert_all_rendered(host)
        await save_screenshot(page, "app-call-hostile", readme=False)


async def test_the_call_view_shows_a_call_s_summary_analysis_and_outcomes(page: Any) -> None:
    async with sandbox() as (client, _backend, sim):
        account = sim.account(DEMO_API_KEY)
        call = next(c for c in account.calls.values() if c.transcript and c.call_outcome)
        host = await hosted(page, client)
        await host.open("get_call")
        shown = (await host.show("get_call", {"call_id": call.call_id}))["structuredContent"]
        await host.app.locator("#turns li").nth(len(call.transcript) - 1).wait_for(timeout=WAIT_MS)

        for key, entry in shown["outcome"].items():
            value = entry["value"] if isinstance(entry, dict) else entry
            expected = {True: "yes", False: "no", None: "–"}.get(value, str(value))
            assert await host.app.locator(f"#outcome dd[data-key='{key}']").inner_text() == expected
        assert await host.app.locator("#turns li").count() == len(call.transcript)
        await assert_all_rendered(host)
        await save_screenshot(page, "app-call")


async def test_the_call_view_keeps_raw_markup_and_bidi_controls_inert_even_if_the_server_let_them_through(
    page: Any,
) -> None:
    """Defence in depth: the app must not rely on the server's cleaning."""
    async with sandbox() as (client, _backend, _sim):
        host = await hosted(page, client)
        await host.open("get_call")
        raw = {
            "call_id": "call-hostile",
            "status": HOSTILE,
            "summary": f"<untrusted-data>{HOSTILE}</untrusted-data>",
            "analysis": {HOSTILE: {"value": True, "details": HOSTILE}},
            "outcome": {"booked": HOSTILE},
            "transcript": f"Agent: hi\nContact: {HOSTILE}",
            "transcript_chars": 20,
            "recording_url": "javascript:window.pwned = 3",
        }
        await host.deliver({"call_id": "call-hostile"}, {"content": [], "structuredContent": raw})
        await host.app.locator("#turns li").nth(1).wait_for(timeout=WAIT_MS)

        contact = host.app.locator("#turns li").nth(1).locator(".third-party")
        assert await contact.inner_text() == HOSTILE
        assert await contact.get_attribute("dir") == "auto"
        assert await host.app.locator("main script, main img, main a[href^='javascript']").count() == 0
        assert HOSTILE in await host.app.locator("#analysis").inner_text()
        assert await page.frames[1].evaluate("window.pwned") is None


async def test_the_call_analytics_chart_shows_call_stats_s_numbers(page: Any) -> None:
    async with sandbox() as (client, backend, _sim):
        assert backend.sandbox is not None
        now = backend.sandbox.now()
        host = await hosted(page, client)
        await host.open("call_stats")
        arguments = {"since": (now - timedelta(days=30)).isoformat(), "until": (now + timedelta(days=1)).isoformat()}
        stats = (await host.show("call_stats", arguments))["structuredContent"]
        await host.app.locator("#tiles [data-key='calls']").wait_for(timeout=WAIT_MS)

        assert stats["calls"] > 0, "the demo account has calls in the range"
        calls = await host.app.locator("#tiles [data-key='calls'] [data-value]").get_attribute("data-value")
        assert calls == f"{stats['calls']:,}"
        assert await shown_counts(host, "statuses") == stats["by_status"]
        assert await shown_counts(host, "agents") == stats["by_agent"]
        days = {}
        for row in await host.app.locator("#days table tbody tr").all():
            day, count = (await row.locator("th, td").all_inner_texts())[:2]
            days[day] = int(count)
        assert {day: count for day, count in days.items() if count} == stats["by_day"]
        first, last = (date.fromisoformat(day) for day in (min(days), max(days)))
        assert len(days) == (last - first).days + 1, "every day in between has its column, empty or not"
        await assert_all_rendered(host)
        await save_screenshot(page, "app-call-stats")


async def test_the_theme_follows_the_host(page: Any) -> None:
    async with sandbox() as (client, _backend, _sim):
        campaign_id = await start_campaign(client)
        host = await hosted(page, client)
        await host.open("get_campaign", theme="dark")
        await host.show("get_campaign", {"campaign_id": campaign_id})
        await host.app.locator("#percent").get_by_text("%").wait_for(timeout=WAIT_MS)
        frame = page.frames[1]
        background = "getComputedStyle(document.body).backgroundColor"
        dark = await frame.evaluate(background)
        await save_screenshot(page, "app-campaign-dark")

        await host.theme("light")
        await frame.wait_for_function(f"{background} !== {dark!r}", timeout=WAIT_MS)
        light = await frame.evaluate(background)

    assert _luminance(dark) < 0.2 < 0.8 < _luminance(light)


def _luminance(rgb: str) -> float:
    red, green, blue = (int(part) for part in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255
