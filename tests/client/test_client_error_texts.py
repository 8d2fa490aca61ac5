"""Golden texts of the client's errors: `str(error)` is one line a person at a terminal can act on.

Each says what failed, on which request, telli's own words where they add to the status, and, when telli may
have acted on a request that changes something, that the request may or may not have been applied. The facts
behind the text are fields too (`request`, `maybe_processed`, `may_have_changed`, `telli_said`), so the MCP
server writes its own text without parsing this one. Every failure comes from the simulator.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest

from telli_mcp.bounded import ITEM_CHARS
from telli_mcp.client import (
    NotFoundError,
    PropertyCreate,
    PropertyDataType,
    TelliClient,
    TelliError,
    deadline,
)
from telli_mcp.simulator import TEST_API_KEY, BodyEdit, Fault, TelliSimulator

pytestmark = pytest.mark.anyio

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
Action = Callable[[TelliClient], Awaitable[Any]]


def _read(telli: TelliClient) -> Awaitable[Any]:
    return telli.agents.list()


def _write(telli: TelliClient) -> Awaitable[Any]:
    return telli.properties.create(PropertyCreate(key="plan", data_type=PropertyDataType.STRING, label="Plan"))


READ = "GET /v2/agents"
WRITE = "POST /v2/properties/contacts"
UNKNOWN = "the request may or may not have been applied"


@dataclass(frozen=True)
class Case:
    action: Action
    fault: dict[str, Any]
    expected: str
    may_have_changed: bool = False
    key: str = TEST_API_KEY
    within: dict[str, Any] = field(default_factory=dict)


CASES = {
    "404": Case(
        lambda telli: telli.contacts.get(UNKNOWN_ID),
        {},
        f'Not found (404) on GET /v2/contacts/{UNKNOWN_ID}: telli said "Contact not found".',
    ),
    "404-status-only": Case(_read, {"status": 404}, f"Not found (404) on {READ}."),
    "400": Case(
        _write, {"status": 400}, f"telli rejected the request as invalid (400) on {WRITE}: error code VALIDATION_ERROR."
    ),
    "401": Case(
        _read,
        {},
        f'telli rejected the API key (401) on {READ}: telli said "Invalid API key"; use a current key from the telli '
        "app (Settings > API & Webhooks).",
        key="tk_live_wrong_0123456789abcdef",
    ),
    "402": Case(_read, {"status": 402}, f"This operation needs a paid telli plan (402) on {READ}."),
    "403": Case(_read, {"status": 403}, f"The API key may not do this (403) on {READ}."),
    "409": Case(_write, {"status": 409}, f"Conflict with existing data (409) on {WRITE}."),
    "422": Case(_write, {"status": 422}, f"telli could not process the request (422) on {WRITE}."),
    "429": Case(
        _write,
        {"status": 429, "retry_after": 7},
        f"telli rate limit reached (429) on {WRITE}: error code RATE_LIMITED; retry after 7 s.",
    ),
    "500-read": Case(_read, {"status": 500}, f"telli server error (500) on {READ}: error code INTERNAL_ERROR."),
    "500-write": Case(
        _write,
        {"status": 500},
        f"telli server error (500) on {WRITE}: error code INTERNAL_ERROR; {UNKNOWN}.",
        may_have_changed=True,
    ),
    "503-read": Case(_read, {"status": 503}, f"telli server error (503) on {READ}."),
    "timeout-read": Case(
        _read, {"kind": "timeout_before"}, f"Timed out after 30 s waiting for telli's answer to {READ}."
    ),
    "timeout-write": Case(
        _write,
        {"kind": "timeout_after"},
        f"Timed out after 30 s waiting for telli's answer to {WRITE}; {UNKNOWN}.",
        may_have_changed=True,
    ),
    "connect-write": Case(
        _write,
        {"kind": "connect_error"},
        f"Could not reach telli at https://api.telli.com for {WRITE} (Simulated connection failure); the request "
        "was not sent.",
    ),
    "malformed-read": Case(
        _read, {"kind": "malformed_json"}, f"telli's answer to {READ} (HTTP 200) is not valid JSON."
    ),
    "malformed-write": Case(
        _write,
        {"kind": "malformed_json"},
        f"telli's answer to {WRITE} (HTTP 200) is not valid JSON; {UNKNOWN}.",
        may_have_changed=True,
    ),
    "deadline-write": Case(
        _write,
        {"kind": "trickle", "latency": 1.0},
        f"No answer from telli to {WRITE} within the 0.2 s deadline (TELLI_MCP_TOOL_DEADLINE_SECONDS); {UNKNOWN}.",
        may_have_changed=True,
        within={"seconds": 0.2, "setting": "TELLI_MCP_TOOL_DEADLINE_SECONDS"},
    ),
}


async def _failure(sim: TelliSimulator, key: str, action: Action, within: dict[str, Any]) -> TelliError:
    async def no_sleep(_seconds: float) -> None:
        return None

    async with TelliClient(key, transport=sim.transport(), sleep=no_sleep) as telli:
        with anyio.fail_after(30):  # hang guard; only the deadline case waits (0.2 s)
            try:
                if within:
                    with deadline(**within):
                        await action(telli)
                else:
                    await action(telli)
            except TelliError as error:
                return error
    raise AssertionError("the request succeeded although telli failed")


@pytest.mark.parametrize("name", list(CASES))
async def test_each_failure_is_one_line_naming_the_request_and_what_it_means(name: str, sim: TelliSimulator) -> None:
    case = CASES[name]
    if case.fault:
        sim.inject(Fault(times=-1, **case.fault))
    error = await _failure(sim, case.key, case.action, case.within)
    assert str(error) == case.expected
    assert error.may_have_changed is case.may_have_changed


async def test_the_facts_behind_a_message_are_fields(sim: TelliSimulator) -> None:
    sim.inject(Fault(method="POST", status=500))
    error = await _failure(sim, TEST_API_KEY, _write, {})
    assert (error.request, error.maybe_processed, error.may_have_changed) == (WRITE, True, True)
    read = await _failure(sim, TEST_API_KEY, lambda telli: telli.contacts.get(UNKNOWN_ID), {})
    assert isinstance(read, NotFoundError)
    assert (read.request, read.maybe_processed, read.may_have_changed) == (
        f"GET /v2/contacts/{UNKNOWN_ID}",
        False,
        False,
    )
    assert read.telli_said == 'telli said "Contact not found"'


async def test_telli_s_words_are_kept_on_one_clean_line_and_clipped(sim: TelliSimulator) -> None:
    # A drifted telli (or a proxy) answers with escapes, bidi overrides, line breaks and a huge message.
    noisy = "\x1b[31mContact\u202e not found\nsee " + "x" * 2000
    sim.inject(Fault(kind="reshape", method="GET", edits=(BodyEdit("message", value=noisy),)))
    error = await _failure(sim, TEST_API_KEY, lambda telli: telli.contacts.get(UNKNOWN_ID), {})
    assert isinstance(error, NotFoundError) and error.server_message is not None
    assert error.server_message.startswith("Contact not found see xxx")
    assert error.server_message.endswith("… (1,722 more characters)")
    assert len(error.server_message) < ITEM_CHARS + 40
    assert not any(char in str(error) for char in "\x1b\u202e\n")


async def test_a_key_telli_echoes_is_masked_even_when_hidden_by_invisible_characters(sim: TelliSimulator) -> None:
    # A zero-width space inside the echoed key hides it from a plain search; the cleaning would then reveal it.
    hidden = f"{TEST_API_KEY[:5]}\u200b{TEST_API_KEY[5:]}"
    sim.inject(Fault(kind="reshape", method="GET", edits=(BodyEdit("message", value=f"bad key {hidden}"),)))
    error = await _failure(sim, TEST_API_KEY, lambda telli: telli.contacts.get(UNKNOWN_ID), {})
    assert 'telli said "bad key ' in str(error)
    assert TEST_API_KEY not in str(error) and TEST_API_KEY not in repr(vars(error))
