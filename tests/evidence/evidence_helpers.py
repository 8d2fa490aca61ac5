"""Shared helpers for the evidence suites: a seeded simulator, the server over it, MCP clients, and checks.

Everything runs in-process against `TelliSimulator` except where a test starts `telli-mcp` itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent
from mcp_helpers import connect

from telli_mcp.backend import Backend
from telli_mcp.config import Settings
from telli_mcp.server import build_server
from telli_mcp.simulator import LoggedRequest, SimClock, TelliSimulator

API_KEY = "tk-evidence-7Q3xZ9wLmK2pV8rT4nB6cY1d"
"""A distinctive key: if any part of it shows up in output, logs or errors, a secret leaked."""
KEY_FRAGMENTS = (API_KEY, API_KEY[3:15], API_KEY[-12:])

ALL_TOOLSETS = ("default", "phone_numbers_admin")
MODES = ("auto", "legacy")

CREATING_POSTS = (
    "/v1/add-contact",
    "/v1/add-contacts-batch",
    "/v2/contacts",
    "/v1/schedule-call",
    "/v1/schedule-calls-batch",
    "/v1/initiate-call",
    "/v1/phone-numbers/import",
    "/v2/properties/contacts",
)
"""POST endpoints that create something or ring someone (plus /v1/phone-numbers/{id}/replace): each may be sent
at most once per tool call."""


async def no_sleep(_seconds: float) -> None:
    """The client's injectable sleep: retries happen at once, no wall-clock waiting."""


def new_sim(*, api_key: str = API_KEY) -> TelliSimulator:
    return TelliSimulator(api_keys=(api_key,), seed_demo=True)


def make_server(sim: TelliSimulator, *, api_key: str = API_KEY, **overrides: Any) -> MCPServer[Any]:
    """The server over `sim` (its campaign ledger in memory unless `data_dir` is given)."""
    overrides.setdefault("toolsets", ALL_TOOLSETS)
    return build_server(Backend.simulated(Settings(api_key=api_key, **overrides), sim, sleep=no_sleep))


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def our_message(result: CallToolResult, tool: str) -> str:
    """The error text after the SDK's "Error executing tool X: " prefix (empty for the SDK's bare message)."""
    text = text_of(result)
    prefix = f"Error executing tool {tool}"
    return text[len(prefix) :].lstrip(": ").strip() if text.startswith(prefix) else text.strip()


def assert_no_key(*texts: object, key: str = API_KEY) -> None:
    fragments = (key, key[3:15], key[-12:])
    for text in texts:
        dumped = str(text)
        for fragment in fragments:
            assert fragment not in dumped, f"API key fragment {fragment!r} leaked into: {dumped[:500]}"


def creates_or_dials(method: str, path: str) -> bool:
    replace = path.startswith("/v1/phone-numbers/") and path.endswith("/replace")
    return method == "POST" and (path in CREATING_POSTS or replace)


def creating_posts(log: Iterable[LoggedRequest]) -> list[str]:
    """The POSTs in `log` that create something or ring someone (phone-number replace included)."""
    return [f"{r.method} {r.path}" for r in log if creates_or_dials(r.method, r.path)]


def requests_of(sim: TelliSimulator) -> list[str]:
    return [f"{r.method} {r.path}" for r in sim.request_log]


@dataclass(frozen=True)
class DemoIds:
    """Ids of the seeded demo data (deterministic for a given key)."""

    contacts: dict[str, str]
    """contact id by external id (crm-123, crm-1001 ... crm-1009)"""
    agents: dict[str, str]
    """agent id by title"""
    phone_numbers: dict[str, str]
    """phone number id by E.164 number"""
    completed_call: str
    """A finished, completed call of crm-1004 (the demo transcript with a planted injection line)"""

    @classmethod
    def of(cls, sim: TelliSimulator, api_key: str = API_KEY) -> DemoIds:
        account = sim.account(api_key)
        contacts = {c.external_id: c.id for c in account.live_contacts() if c.external_id}
        completed = next(
            call.call_id
            for call in account.calls.values()
            if call.contact_id == contacts["crm-1004"] and str(call.call_status) == "COMPLETED"
        )
        return cls(
            contacts=contacts,
            agents={agent.title: agent.id for agent in account.agents_in_order()},
            phone_numbers={number.phone_number: number.id for number in account.active_phone_numbers()},
            completed_call=completed,
        )

    @property
    def sales_agent(self) -> str:
        return self.agents["Sales Agent (DE)"]


def valid_arguments(ids: DemoIds) -> dict[str, dict[str, Any]]:
    """One valid argument set per tool, built from the demo data; each reaches telli and succeeds normally."""
    contact = ids.contacts
    return {
        "get_status": {},
        "create_contact": {
            "first_name": "Ida",
            "last_name": "Roth",
            "phone_number": "+493090182077",
            "external_id": "crm-ev-1",
            "properties": {"plan": "gold"},
        },
        "get_contact": {"contact_id": contact["crm-123"]},
        "list_contacts": {"limit": 5},
        "update_contact": {
            "contact_id": contact["crm-123"],
            "first_name": "Maximilian",
            "properties": {"plan": "silver"},
        },
        "delete_contact": {"contact_id": contact["crm-1009"]},
        "list_contact_properties": {},
        "create_contact_property": {
            "key": "ev_region",
            "data_type": "select",
            "label": "Region",
            "options": ["north", "south"],
        },
        "update_contact_property": {"key": "plan", "label": "Plan tier"},
        "schedule_calls": {"contact_ids": [contact["crm-1005"]], "agent_id": ids.sales_agent},
        "call_now": {"contact_id": contact["crm-1005"], "agent_id": ids.sales_agent},
        "cancel_scheduled_calls": {"contact_ids": [contact["crm-1003"]]},
        "list_calls": {"contact_id": contact["crm-1002"]},
        "get_call": {"call_id": ids.completed_call, "include_transcript": True},
        "get_call_transcript": {"call_id": ids.completed_call},
        "list_agents": {},
        "list_phone_numbers": {},
        "replace_phone_number": {"phone_number_id": ids.phone_numbers["+493090182900"]},
        "delete_phone_number": {"phone_number_id": ids.phone_numbers["+12125550199"]},
        "start_campaign": {"agent_id": ids.sales_agent, "leads": CAMPAIGN_LEADS, "name": "Evidence"},
        "get_campaign": {"campaign_id": STARTED_CAMPAIGN},
        "list_campaigns": {},
        "stop_campaign": {"campaign_id": STARTED_CAMPAIGN},
    }


CAMPAIGN_LEADS = [
    {"phone_number": "+493090182088", "first_name": "Ida", "last_name": "Roth", "external_id": "lead-ev-1"},
    {"phone_number": "+493090182089", "first_name": "Ole", "last_name": "Berg", "external_id": "lead-ev-2"},
]
STARTED_CAMPAIGN = "<campaign started in setup>"
"""Placeholder in `valid_arguments`: `prepare` starts a campaign first and puts its id here."""


async def prepare(client: Client, sim: TelliSimulator, tool: str, ids: DemoIds) -> dict[str, Any]:
    """The tool's valid arguments, after any state they need exists (then the request log is cleared)."""
    args = dict(valid_arguments(ids)[tool])
    if STARTED_CAMPAIGN in args.values():
        started = await client.call_tool("start_campaign", valid_arguments(ids)["start_campaign"])
        assert not started.is_error and started.structured_content, f"setup of {tool}: {text_of(started)}"
        args = {k: started.structured_content["campaign_id"] if v == STARTED_CAMPAIGN else v for k, v in args.items()}
    sim.request_log.clear()
    return args


def first(items: Iterable[Any], predicate: Callable[[Any], bool]) -> Any:
    return next(item for item in items if predicate(item))


class SimSwitch:
    """A fresh seeded simulator per case behind one long-lived server (building a server costs ~50 ms).

    The server's telli client talks to whatever simulator is current, so a test can reset telli's state and
    faults between cases without rebuilding the server or reconnecting the MCP client.
    """

    def __init__(self, api_key: str = API_KEY) -> None:
        self.api_key = api_key
        self.sim = new_sim(api_key=api_key)

    def reset(self) -> TelliSimulator:
        self.sim = new_sim(api_key=self.api_key)
        return self.sim

    @property
    def clock(self) -> SimClock:
        """The current simulator's clock (the backend reads it anew each time)."""
        return self.sim.clock

    def transport(self) -> httpx2.AsyncBaseTransport:
        """A transport to whichever simulator is current."""
        return _SwitchTransport(self)

    def server(self, **overrides: Any) -> MCPServer[Any]:
        # The campaign ledger is in memory: the lifespan closes it when a connection ends, so every connection
        # starts with an empty ledger.
        overrides.setdefault("toolsets", ALL_TOOLSETS)
        return build_server(Backend.simulated(Settings(api_key=self.api_key, **overrides), self, sleep=no_sleep))


class _SwitchTransport(httpx2.AsyncBaseTransport):
    def __init__(self, switch: SimSwitch) -> None:
        self._switch = switch

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        return await self._switch.sim.transport().handle_async_request(request)


def token_of(data: dict[str, Any] | None) -> str:
    """The confirmation token of a guarded tool's preview result."""
    assert data is not None and data.get("confirmation_required"), f"no confirmation preview in {data}"
    request = data["confirmation_required"]
    token = data.get("confirmation_token") or (request.get("confirmation_token") if isinstance(request, dict) else None)
    assert isinstance(token, str) and token, f"no confirmation token in {data}"
    return token


async def _listed_schemas(*, guarded_only: bool = False) -> dict[str, dict[str, Any]]:
    async with connect(make_server(new_sim()), "auto") as client:
        tools = (await client.list_tools()).tools
    return {
        tool.name: tool.input_schema
        for tool in tools
        if not guarded_only or (tool.annotations is not None and tool.annotations.destructive_hint)
    }


def listed_tool_schemas() -> dict[str, dict[str, Any]]:
    """Every tool the server lists (all toolsets this suite turns on) with its input schema, from `list_tools`."""
    return anyio.run(_listed_schemas)


def guarded_tool_schemas() -> dict[str, dict[str, Any]]:
    """The listed tools that dial or erase (destructiveHint), which ask the human first, with input schemas."""
    return anyio.run(lambda: _listed_schemas(guarded_only=True))


READ_POSTS = ("/v1/get-contacts-batch",)


def is_write(method: str, path: str) -> bool:
    """A request that could change something at telli (reads sent as POST excepted)."""
    return method != "GET" and path not in READ_POSTS


def telli_state(sim: TelliSimulator, api_key: str = API_KEY) -> str:
    """A fingerprint of everything a tool could change at telli: contacts, dialer, numbers, properties."""
    account = sim.account(api_key)
    contacts = sorted(repr(contact) for contact in account.live_contacts())
    loops = sorted(
        f"{cid}:{len(account.dialer_loops_for(cid))}:{account.active_loop_for(cid) is not None}"
        for cid in account.contacts
    )
    numbers = sorted(repr(number) for number in account.active_phone_numbers())
    properties = sorted(repr(definition) for definition in account.properties.values())
    return "\n".join([*contacts, *loops, *numbers, *properties])
