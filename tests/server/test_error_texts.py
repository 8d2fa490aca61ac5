"""Golden texts: what the model reads when telli fails, one exact text per kind of failure.

Each case is a real tool call through the MCP client (both protocol eras) against the simulator with one fault
injected. The expected texts are written out in full on purpose: a change to any of them shows up here as a
diff to review, and each is a text we want a model (and the person it talks to) to read. Every text says, in
one sentence, what happened (with the status and the request when telli answered), then what to do; when telli
may have acted on a request that changes something, it says so and asks to check before retrying.

Reads go through `list_agents` (GET /v2/agents), writes through `create_contact` (POST /v2/contacts) with
confirmation off. A rejected key is named by who brought it: the server's TELLI_API_KEY over stdio, in-process
or over HTTP without a header, the caller's own key over HTTP with `Authorization: Bearer`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent
from mcp_helpers import connect
from process_helpers import serving

from telli_mcp.config import Settings
from telli_mcp.serve import http_app
from telli_mcp.simulator import TEST_API_KEY, Fault, TelliSimulator

pytestmark = pytest.mark.anyio

HANG_GUARD = 30
UNKNOWN_CONTACT = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
READ = ("list_agents", {})
WRITE = ("create_contact", {"first_name": "Ida", "last_name": "Roth", "phone_number": "+493090182077"})
CHECK_FIRST = (
    "telli may or may not have processed it. Do not simply retry: check first (get_contact shows the dialer "
    "status, list_calls shows calls), because a blind retry could call a person twice."
)
CHECK_THE_ID = (
    "Check the id: contact ids come from list_contacts/get_contact, call ids from list_calls, agent ids from "
    "list_agents, property keys from list_contact_properties."
)
NEW_KEY = (
    "Ask the user to set a current key from the telli app (Settings > API & Webhooks) and to run `telli-mcp doctor` "
    "to check it."
)


@dataclass(frozen=True)
class Case:
    call: tuple[str, dict[str, Any]]
    fault: dict[str, Any]
    expected: str
    settings: dict[str, Any] = field(default_factory=dict)


CASES = {
    "404": Case(
        ("get_contact", {"contact_id": UNKNOWN_CONTACT}),
        {},
        f'Not found (404) on GET /v2/contacts/{UNKNOWN_CONTACT}: telli said "Contact not found". {CHECK_THE_ID}',
    ),
    "404-write": Case(
        ("update_contact", {"contact_id": UNKNOWN_CONTACT, "first_name": "Ida"}),
        {},
        f'Not found (404) on PATCH /v2/contacts/{UNKNOWN_CONTACT}: telli said "Contact not found". {CHECK_THE_ID}',
    ),
    "400": Case(
        WRITE,
        {"status": 400},
        "telli rejected the input (400) on POST /v2/contacts: error code VALIDATION_ERROR. For property keys and "
        "allowed values call list_contact_properties.",
    ),
    "422": Case(
        WRITE,
        {"status": 422},
        "telli rejected the input (422) on POST /v2/contacts. For property keys and allowed values call "
        "list_contact_properties.",
    ),
    "401": Case(READ, {"status": 401}, f"telli rejected TELLI_API_KEY (401). {NEW_KEY}"),
    "402": Case(
        READ,
        {"status": 402},
        "This needs a paid telli plan (402) on GET /v2/agents. Tell the user; retrying will not help.",
    ),
    "403": Case(
        READ,
        {"status": 403},
        "The telli key may not do this (403) on GET /v2/agents. Tell the user to check the key's permissions in "
        "the telli app; retrying will not help.",
    ),
    "409": Case(
        WRITE,
        {"status": 409},
        "Conflict (409) on POST /v2/contacts: it already exists. Look it up (e.g. get_contact with external_id) "
        "instead.",
    ),
    "429": Case(
        READ,
        {"status": 429, "retry_after": 7},
        "telli is rate limiting requests (429) on GET /v2/agents. Retry after 7 seconds.",
    ),
    "429-no-retry-after": Case(
        READ, {"status": 429}, "telli is rate limiting requests (429) on GET /v2/agents. Wait a little and retry."
    ),
    "500-read": Case(
        READ,
        {"status": 500},
        "telli had a server error (500) on GET /v2/agents: error code INTERNAL_ERROR. Retry in a minute.",
    ),
    "500-write": Case(
        WRITE,
        {"status": 500},
        f"telli had a server error (500) on POST /v2/contacts: error code INTERNAL_ERROR; {CHECK_FIRST}",
    ),
    "503-read": Case(READ, {"status": 503}, "telli had a server error (503) on GET /v2/agents. Retry in a minute."),
    "503-write": Case(WRITE, {"status": 503}, f"telli had a server error (503) on POST /v2/contacts; {CHECK_FIRST}"),
    "timeout-read": Case(
        READ,
        {"kind": "timeout_before"},
        "telli did not answer in time (GET /v2/agents). Nothing was changed; retry shortly.",
    ),
    "timeout-write": Case(
        WRITE, {"kind": "timeout_after"}, f"telli did not answer in time (POST /v2/contacts); {CHECK_FIRST}"
    ),
    "connect-read": Case(
        READ,
        {"kind": "connect_error"},
        "Could not reach telli (GET /v2/agents was not sent). Nothing was changed; retry shortly.",
    ),
    "connect-write": Case(
        WRITE,
        {"kind": "connect_error"},
        "Could not reach telli (POST /v2/contacts was not sent). Nothing was changed; retry shortly.",
    ),
    "malformed-read": Case(
        READ,
        {"kind": "malformed_json"},
        "telli answered GET /v2/agents, but its answer could not be read. Nothing was changed; retry shortly. If it "
        "persists, ask the user to check that TELLI_API_BASE_URL points at the telli API.",
    ),
    "malformed-write": Case(
        WRITE,
        {"kind": "malformed_json"},
        f"telli answered POST /v2/contacts, but its answer could not be read; {CHECK_FIRST}",
    ),
    "truncated-read": Case(
        READ,
        {"kind": "truncated"},
        "telli answered GET /v2/agents, but its answer could not be read. Nothing was changed; retry shortly. If it "
        "persists, ask the user to check that TELLI_API_BASE_URL points at the telli API.",
    ),
    "deadline-read": Case(
        READ,
        {"kind": "trickle", "latency": 1.0},
        "This tool call ran out of time: it did not finish within the 0.3 s deadline "
        "(TELLI_MCP_TOOL_DEADLINE_SECONDS). Nothing was changed. Retry later; if telli is merely slow, raise that "
        "setting.",
        {"tool_deadline_seconds": 0.3},
    ),
    "deadline-write": Case(
        WRITE,
        {"kind": "trickle", "latency": 1.0},
        "This tool call ran out of time: it did not finish within the 0.3 s deadline "
        f"(TELLI_MCP_TOOL_DEADLINE_SECONDS), after a request that changes something was sent; {CHECK_FIRST}",
        {"tool_deadline_seconds": 0.3},
    ),
}


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def _inject(sim: TelliSimulator, case: Case) -> None:
    if case.fault:
        # Only the request the text names fails: the read's GET, or the write's POST (nothing is read before it).
        method = "GET" if case.call is READ else "POST"
        sim.inject(Fault(method=method, times=-1, **case.fault))


@pytest.mark.parametrize("name", list(CASES))
async def test_the_model_reads_one_clear_sentence_and_advice_per_failure(
    name: str, make_server: Callable[..., MCPServer[Any]], sim: TelliSimulator, mode: str
) -> None:
    case = CASES[name]
    _inject(sim, case)
    tool, arguments = case.call
    async with connect(make_server(confirm="off", **case.settings), mode) as client:
        with anyio.fail_after(HANG_GUARD):
            result = await client.call_tool(tool, arguments)
    assert result.is_error
    # The SDK names the tool first; the rest is ours.
    assert text_of(result) == f"Error executing tool {tool}: {case.expected}"


# -- over HTTP: whose key telli rejected ------------------------------------------------------------------------

BEARER_REJECTED = (
    'telli rejected the telli key sent in the Authorization header (401): telli said "Invalid API key". Ask the '
    'user to send a current key from the telli app (Settings > API & Webhooks) as "Authorization: Bearer <key>".'
)
UNKNOWN_KEY = "tk-unknown-caller-5Hq2Lw8Zr"
"""A key telli does not know (the simulator holds only TEST_API_KEY)."""


@contextmanager
def _served(app: Any) -> Iterator[str]:
    """Serve an ASGI app on a loopback port in a thread; yield its MCP URL."""
    with serving(app, lifespan="on") as base:
        yield f"{base}/mcp"


async def _call_over_http(url: str, key: str | None) -> str:
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    async with (
        httpx2.AsyncClient(headers=headers) as http,
        Client(streamable_http_client(url, http_client=http), mode="auto") as client,
    ):
        result = await client.call_tool(*READ)
    assert result.is_error
    return text_of(result).removeprefix(f"Error executing tool {READ[0]}: ")


async def test_over_http_a_rejected_key_is_named_by_who_brought_it(
    make_server: Callable[..., MCPServer[Any]], sim: TelliSimulator
) -> None:
    app = http_app(make_server(), Settings(api_key=TEST_API_KEY), "127.0.0.1")
    with anyio.fail_after(HANG_GUARD), _served(app) as url:
        bearer = await _call_over_http(url, UNKNOWN_KEY)
        sim.inject(Fault(status=401, times=-1))  # now telli rejects the server's own key too
        server_key = await _call_over_http(url, None)
    assert bearer == BEARER_REJECTED
    assert server_key == f"telli rejected TELLI_API_KEY (401). {NEW_KEY}"
    assert UNKNOWN_KEY[3:] not in bearer and TEST_API_KEY[3:] not in server_key
