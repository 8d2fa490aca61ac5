"""Fault-injection matrix: every tool x every way telli can fail, on every endpoint the tool hits.

For each tool (as listed by `list_tools`, with `phone_numbers_admin` on and `TELLI_MCP_CONFIRM=off` so
confirmation does not hide the write), a clean run records the telli endpoints it hits. Then each failure is
injected forever (`times=-1`) on all paths, and on each of those endpoints alone, against a fresh simulator.
Every case must end within a deadline in an `isError` result whose text says what happened and what to do
(batch tools report per-contact problems instead, and call_now reports a lost answer as 'unknown' with the check
to run; `get_status` reports the key check), never the SDK's bare
"Error executing tool X", never the API key, and a POST that creates or dials is sent at most once. A second
matrix injects each retryable failure once: a request that is safe to repeat recovers, a POST that creates or
dials is not repeated. A smaller matrix runs the guarded tools with confirmation on (elicitation and token).
The campaign engine re-sends a failed batch on purpose (after checking telli, or relying on its own external
ids); for the campaign tools the invariant is checked on telli's state instead: no contact created twice, nobody
in the dialer twice, and the tool's report matches what telli holds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import anyio
import pytest
from evidence_helpers import (
    API_KEY,
    CAMPAIGN_LEADS,
    MODES,
    DemoIds,
    SimSwitch,
    assert_no_key,
    creating_posts,
    is_write,
    listed_tool_schemas,
    new_sim,
    our_message,
    prepare,
    text_of,
    token_of,
    valid_arguments,
)
from mcp import Client
from mcp.types import CallToolResult
from mcp_helpers import Answers, connect

from telli_mcp.simulator import Fault, TelliSimulator

pytestmark = pytest.mark.anyio

DEADLINE_SECONDS = 10


@dataclass(frozen=True)
class Failure:
    name: str
    fault: dict[str, Any]
    expect: tuple[str, ...]
    """Any of these fragments in the error text identifies the failure to the model."""
    maybe_processed: bool = False
    """The client cannot know whether telli acted (lost or unreadable answer, or a 5xx)."""
    retryable: bool = False
    """A request that is safe to repeat is retried after this failure."""

    def inject(self, sim: TelliSimulator, *, method: str | None, path: str | None, times: int) -> None:
        sim.inject(Fault(method=method, path=path, times=times, **self.fault))


FAILURES = (
    Failure("400", {"status": 400}, ("(400)",)),
    Failure("401", {"status": 401}, ("(401)", "TELLI_API_KEY")),
    Failure("403", {"status": 403}, ("(403)",)),
    Failure("404", {"status": 404}, ("(404)", "no finished call", "no active number")),
    Failure("409", {"status": 409}, ("(409)",)),
    Failure("422", {"status": 422}, ("(422)",)),
    Failure(
        "429+retry-after",
        {"status": 429, "retry_after": 7},
        ("Retry after 7 seconds", "retry after 7 s"),
        retryable=True,
    ),
    Failure("429", {"status": 429}, ("(429)",), retryable=True),
    Failure("500", {"status": 500}, ("(500)",), maybe_processed=True),
    Failure("502", {"status": 502}, ("(502)",), maybe_processed=True, retryable=True),
    Failure("503", {"status": 503}, ("(503)",), maybe_processed=True, retryable=True),
    Failure(
        "read timeout",
        {"kind": "timeout_before"},
        ("did not answer in time", "Could not reach telli", "Timed out"),
        maybe_processed=True,
        retryable=True,
    ),
    Failure(
        "timeout after processing",
        {"kind": "timeout_after"},
        ("did not answer in time", "Could not reach telli", "Timed out"),
        maybe_processed=True,
        retryable=True,
    ),
    Failure(
        "connection refused",
        {"kind": "connect_error"},
        ("Could not reach telli", "Could not talk to telli"),
        retryable=True,
    ),
    Failure(
        "malformed JSON", {"kind": "malformed_json"}, ("could not be read", "not valid JSON"), maybe_processed=True
    ),
    Failure("truncated body", {"kind": "truncated"}, ("could not be read", "not valid JSON"), maybe_processed=True),
)

ACTIONS = ("retry", "Retry", "Check", "check", "Look it up", "Wait", "list_", "Nothing was", "key")
"""Every error tells the model what to do next (or what it may not do)."""
BATCH_TOOLS = {
    "schedule_calls": "/v1/schedule-calls-batch",
    "cancel_scheduled_calls": "/v1/remove-from-auto-dialer-batch",
}
UNKNOWN_REPORTING = {"call_now": "/v1/initiate-call"}
"""Dialling tools that report a lost answer (telli may have acted) as a result with status 'unknown' and the
check to run, rather than as an error; like the batch tools, they never resend."""
GUARDED_TOOLS = ("delete_contact", "schedule_calls", "call_now", "replace_phone_number", "delete_phone_number")
CAMPAIGN_TOOLS = frozenset({"start_campaign", "get_campaign", "list_campaigns", "stop_campaign"})
"""The campaign engine re-sends a whole-request failure after checking telli (or relying on its own
external ids), so for these tools the invariant is "no duplicate effect", not "each POST once"."""
LOCAL_TOOLS = frozenset({"list_campaigns"})
"""Tools that answer from local state (the campaign ledger) without asking telli."""


LISTED_TOOLS = sorted(listed_tool_schemas())
KNOWN_TOOLS = valid_arguments(DemoIds.of(new_sim()))
BASELINE_LOOPS = {
    cid: len(new_sim().account(API_KEY).dialer_loops_for(cid)) for cid in DemoIds.of(new_sim()).contacts.values()
}
"""Dialer loops each demo contact has from its seeded call history."""


@dataclass
class Case:
    tool: str
    failure: Failure
    scope: str
    """"all paths" or "METHOD /path" of the one endpoint that fails."""
    sim: TelliSimulator
    result: CallToolResult

    @property
    def label(self) -> str:
        return f"{self.tool} / {self.failure.name} / {self.scope}"

    def first_faulted(self) -> tuple[str, str]:
        entry = next(e for e in self.sim.request_log if e.fault is not None)
        return entry.method, entry.path


async def _call(client: Client, tool: str, args: dict[str, Any]) -> CallToolResult:
    with anyio.fail_after(DEADLINE_SECONDS):
        return await client.call_tool(tool, args)


def _check_common(case: Case) -> None:
    """Holds for every case: no secret anywhere, creating POSTs at most once, never the SDK's bare error."""
    result = case.result
    assert_no_key(
        text_of(result),
        json.dumps(result.structured_content),
        json.dumps([entry.to_json() for entry in case.sim.request_log]),
    )
    if case.tool not in CAMPAIGN_TOOLS:
        posts = creating_posts(case.sim.request_log)
        assert len(posts) == len(set(posts)), f"{case.label}: a creating/dialing POST was sent twice: {posts}"
    _check_effects_once(case)
    if result.is_error:
        message = our_message(result, case.tool)
        assert len(message) > 20, f"{case.label}: bare SDK error {text_of(result)!r}"
        assert "Traceback" not in message and "validation error" not in message, f"{case.label}: {message}"


def _check_error_text(case: Case, *, write_failed: bool) -> None:
    message = our_message(case.result, case.tool)
    assert any(fragment in message for fragment in case.failure.expect), (
        f"{case.label}: the error does not say what failed: {message!r}"
    )
    assert any(action in message for action in ACTIONS), f"{case.label}: no next step in {message!r}"
    if write_failed and case.failure.maybe_processed:
        assert "may or may not" in message and "Do not simply retry" in message, (
            f"{case.label}: a write whose fate is unknown must say so: {message!r}"
        )
    if write_failed and case.failure.name == "connection refused":
        assert "Nothing was changed" in message and "may or may not" not in message, f"{case.label}: {message!r}"


def _check_batch_result(case: Case, contact_ids: list[str]) -> None:
    """Batch tools report a whole-request failure per contact, with 'unknown' when telli may have acted."""
    data = case.result.structured_content
    assert data is not None, case.label
    problems = {problem["contact_id"]: problem for problem in data["problems"]}
    assert set(problems) == set(contact_ids), f"{case.label}: {data}"
    expected = "unknown" if case.failure.maybe_processed else "error"
    for problem in problems.values():
        assert problem["status"] == expected, f"{case.label}: {problem}"
        assert any(fragment in problem["error"] for fragment in case.failure.expect), f"{case.label}: {problem}"
    if case.tool == "schedule_calls":
        assert data["status"] == "not_scheduled" and data["scheduled_count"] == 0, f"{case.label}: {data}"
        if expected == "unknown":
            assert "get_contact before scheduling them again" in data["note"], f"{case.label}: {data['note']}"
    else:
        assert data["removed"] == [], f"{case.label}: {data}"


def _check_unknown_call(case: Case, contact_id: str) -> None:
    """A dial whose answer was lost is reported 'unknown' with the exact check, and was sent exactly once."""
    data = case.result.structured_content
    assert not case.result.is_error and data is not None, f"{case.label}: {text_of(case.result)}"
    assert data["status"] == "unknown" and data["started"] is False, f"{case.label}: {data}"
    assert f"get_contact(contact_id={contact_id})" in data["check"], f"{case.label}: {data}"
    assert "may or may not" in data["note"] and "not sent again" in data["note"], f"{case.label}: {data}"
    sent = [e for e in case.sim.request_log if e.path == UNKNOWN_REPORTING[case.tool]]
    assert len(sent) == 1, f"{case.label}: sent {len(sent)} times"


def _check_effects_once(case: Case) -> None:
    """Whatever was re-sent, telli holds no duplicate contact and nobody is in the dialer twice."""
    account = case.sim.account(API_KEY)
    phones = [contact.phone_number for contact in account.live_contacts()]
    assert len(phones) == len(set(phones)), f"{case.label}: a contact was created twice"
    for contact in account.live_contacts():
        active = [loop for loop in account.dialer_loops_for(contact.id) if loop is account.active_loop_for(contact.id)]
        assert len(active) <= 1, f"{case.label}: {contact.phone_number} is in the dialer twice"
        assert len(account.dialer_loops_for(contact.id)) <= BASELINE_LOOPS.get(contact.id, 0) + 1, (
            f"{case.label}: {contact.phone_number} was scheduled twice"
        )


def _lead_contacts_in_dialer(sim: TelliSimulator) -> int:
    account = sim.account(API_KEY)
    phones = {lead["phone_number"] for lead in CAMPAIGN_LEADS}
    return sum(
        1 for c in account.live_contacts() if c.phone_number in phones and account.active_loop_for(c.id) is not None
    )


def _check_campaign_result(case: Case) -> None:
    """Campaign tools answer with a report; it must match what telli actually holds."""
    data = case.result.structured_content
    assert data is not None, case.label
    if case.tool == "start_campaign":
        writes = [e for e in case.sim.request_log if is_write(e.method, e.path)]
        if data["status"] == "not_launchable":
            assert data["blocking_reasons"] and not writes, f"{case.label}: {data}"
            return
        assert data["scheduled_total"] == _lead_contacts_in_dialer(case.sim), f"{case.label}: report != telli: {data}"
        if data["scheduled_total"] < data["valid_leads"]:
            assert data["status"] != "completed" and "again" in data["message"], f"{case.label}: {data}"
        else:
            assert data["status"] == "completed", f"{case.label}: {data}"
    elif case.tool == "stop_campaign":
        assert _lead_contacts_in_dialer(case.sim) <= data["failed"], f"{case.label}: report != telli: {data}"
        if data["failed"]:
            assert "not confirmed" in data["message"] and "again" in data["message"], f"{case.label}: {data}"
    else:
        pytest.fail(f"{case.label}: succeeded although telli kept failing: {text_of(case.result)[:300]}")


def _check_persistent(case: Case, args: dict[str, Any]) -> None:
    """The outcome of a failure injected forever."""
    _check_common(case)
    method, path = case.first_faulted()
    result, tool, failure = case.result, case.tool, case.failure
    if tool == "get_status":
        data = result.structured_content
        assert not result.is_error and data is not None, case.label
        # 401 means the key is wrong; any other failure means it could not be checked.
        assert data["key_valid"] is (False if failure.name == "401" else None), f"{case.label}: {data}"
        return
    if tool in UNKNOWN_REPORTING and path == UNKNOWN_REPORTING[tool] and failure.maybe_processed:
        _check_unknown_call(case, args["contact_id"])
        return
    if tool in BATCH_TOOLS and path == BATCH_TOOLS[tool]:
        assert not result.is_error, f"{case.label}: {text_of(result)}"
        _check_batch_result(case, args["contact_ids"])
        return
    if tool in CAMPAIGN_TOOLS and not result.is_error:
        _check_campaign_result(case)
        return
    if not result.is_error:
        # The only successes allowed while telli keeps failing: the tool did not need the failed answer.
        if tool == "get_contact" and path.startswith("/v1/get-contact/") and failure.name == "404":
            assert (result.structured_content or {}).get("dialer") is None, case.label  # no dialer record
            return
        if tool == "delete_contact" and method == "DELETE" and failure.name == "truncated body":
            # 204 has no body to cut; the delete happened and is reported as done.
            assert case.sim.account(API_KEY).find_contact(args["contact_id"]) is None, case.label
            return
        pytest.fail(f"{case.label}: succeeded although telli kept failing: {text_of(result)[:300]}")
    _check_error_text(case, write_failed=is_write(method, path))


Inject = Callable[[TelliSimulator], None]
FRESH_LEDGER_TOOLS = CAMPAIGN_TOOLS
"""Tools whose cases need an empty campaign ledger, i.e. a new connection (see SimSwitch.server)."""


class Runner:
    """Runs cases of one tool against one server: a fresh simulator per case, one MCP connection when possible."""

    def __init__(self, tool: str, mode: str, *, confirm: str, answers: Answers | None = None) -> None:
        self.tool, self.mode, self.answers = tool, mode, answers
        self.switch = SimSwitch()
        self.server = self.switch.server(confirm=confirm)
        self._stack = AsyncExitStack()
        self._client: Client | None = None

    async def __aenter__(self) -> Runner:
        if self.tool not in FRESH_LEDGER_TOOLS:
            self._client = await self._stack.enter_async_context(connect(self.server, self.mode, self.answers))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def run(self, inject: Inject | None = None) -> tuple[TelliSimulator, dict[str, Any], CallToolResult]:
        """One case: a fresh simulator, the tool's setup, the fault, then the call (within the deadline)."""
        sim = self.switch.reset()
        async with AsyncExitStack() as stack:
            client = self._client or await stack.enter_async_context(connect(self.server, self.mode, self.answers))
            args = await prepare(client, sim, self.tool, DemoIds.of(sim))
            if inject is not None:
                inject(sim)
            result = await _call(client, self.tool, args)
        return sim, args, result

    async def endpoints(self) -> tuple[list[tuple[str, str]], dict[tuple[str, str], int]]:
        """The telli endpoints a clean run of the tool hits, in order, and how often each."""
        sim, _, result = await self.run()
        assert not result.is_error, f"{self.tool} fails without any fault: {text_of(result)[:500]}"
        hits = [(entry.method, entry.path) for entry in sim.request_log]
        assert hits or self.tool in LOCAL_TOOLS, f"{self.tool} sent nothing to telli"
        return list(dict.fromkeys(hits)), {ep: hits.count(ep) for ep in hits}


def _repeated_at_once(sim: TelliSimulator) -> bool:
    """Whether the faulted request was sent again straight away (a retry, as opposed to a later re-send)."""
    log = sim.request_log
    index = next(i for i, entry in enumerate(log) if entry.fault is not None)
    return index + 1 < len(log) and (log[index + 1].method, log[index + 1].path) == (log[index].method, log[index].path)


def _check_resends_are_deduplicated(case: Case) -> None:
    """Contacts the campaign engine creates carry an external id, so telli rejects a re-sent one."""
    for entry in case.sim.request_log:
        if entry.path == "/v1/add-contacts-batch":
            assert all(item.get("external_contact_id") for item in entry.body["contacts"]), case.label


def _inject(failure: Failure, method: str | None, path: str | None, times: int) -> Inject:
    return lambda sim: failure.inject(sim, method=method, path=path, times=times)


def _tool_params() -> list[Any]:
    return [
        pytest.param(tool, mode, id=f"{tool}-{mode}")
        for tool in sorted(set(LISTED_TOOLS) | set(KNOWN_TOOLS))
        for mode in MODES
    ]


def _require_known(tool: str) -> None:
    if tool not in KNOWN_TOOLS or tool not in LISTED_TOOLS:
        pytest.fail(f"{tool}: listed by the server but without valid arguments in valid_arguments(), or the reverse")


def test_every_tool_listed_by_the_server_has_a_fault_case() -> None:
    assert set(LISTED_TOOLS) == set(KNOWN_TOOLS), (
        f"add valid arguments for {sorted(set(LISTED_TOOLS) - set(KNOWN_TOOLS))} to valid_arguments(); "
        f"remove {sorted(set(KNOWN_TOOLS) - set(LISTED_TOOLS))}"
    )


@pytest.mark.parametrize(("tool", "mode"), _tool_params())
async def test_persistent_failures_end_in_a_clear_error(tool: str, mode: str) -> None:
    _require_known(tool)
    async with Runner(tool, mode, confirm="off") as runner:
        endpoints, _ = await runner.endpoints()
        # All paths at once (so the first request fails), then each later endpoint alone; the legacy era (same
        # tools, other wire) gets all paths only, to keep the suite fast.
        alone = endpoints[1:] if mode == "auto" else []
        for method, path in [(None, None), *alone]:
            for failure in FAILURES:
                sim, args, result = await runner.run(_inject(failure, method, path, -1))
                case = Case(tool, failure, "all paths" if path is None else f"{method} {path}", sim, result)
                if tool in LOCAL_TOOLS:
                    _check_common(case)
                    assert not result.is_error and not sim.request_log, f"{case.label}: {text_of(result)}"
                    continue
                _check_persistent(case, args)


@pytest.mark.parametrize("tool", sorted(set(LISTED_TOOLS) | set(KNOWN_TOOLS)))
async def test_one_transient_failure_is_retried_only_when_safe(tool: str) -> None:
    _require_known(tool)
    transient = [f for f in FAILURES if f.retryable or f.name == "500"]
    async with Runner(tool, "auto", confirm="off") as runner:
        endpoints, clean_counts = await runner.endpoints()
        for method, path in endpoints:
            for failure in transient:
                sim, args, result = await runner.run(_inject(failure, method, path, 1))
                case = Case(tool, failure, f"{method} {path} once", sim, result)
                _check_common(case)
                sent = sum(1 for e in sim.request_log if (e.method, e.path) == (method, path))
                safe = not is_write(method, path) or method in ("PUT", "PATCH", "DELETE")
                if safe and failure.retryable:
                    assert not result.is_error, f"{case.label}: a safe retry should recover: {text_of(result)}"
                    assert sent == clean_counts[(method, path)] + 1, f"{case.label}: sent {sent} times"
                    if tool in BATCH_TOOLS:
                        assert not (result.structured_content or {}).get("problems"), case.label
                else:  # a write that must not be repeated, or a 500 (not retried): reported like a lasting failure
                    if tool in CAMPAIGN_TOOLS:  # re-sends are by design; they must be unable to duplicate
                        _check_resends_are_deduplicated(case)
                    else:
                        assert not _repeated_at_once(sim), f"{case.label}: the failed request was retried"
                    _check_persistent(case, args)


CONFIRMED_FAILURES = [
    f
    for f in FAILURES
    if f.name in ("401", "429+retry-after", "503", "timeout after processing", "connection refused", "truncated body")
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("tool", GUARDED_TOOLS)
async def test_guarded_tools_fail_clearly_with_confirmation_on(tool: str, mode: str) -> None:
    """Elicitation accepted: the resolver's preview reads and the write fail as clearly as without it."""
    answers = Answers("accept")
    async with Runner(tool, mode, confirm="auto", answers=answers) as runner:
        endpoints, _ = await runner.endpoints()
        assert len(answers.questions) == 1, f"{tool}: confirmation was asked {len(answers.questions)} times"
        for method, path in endpoints:
            for failure in CONFIRMED_FAILURES:
                sim, args, result = await runner.run(_inject(failure, method, path, -1))
                _check_persistent(Case(tool, failure, f"{method} {path} (confirmed)", sim, result), args)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("tool", GUARDED_TOOLS)
async def test_a_spent_confirmation_token_stops_a_blind_retry_after_a_lost_answer(tool: str, mode: str) -> None:
    """Token mode: the write's answer is lost; calling again with the same token is refused, nothing is resent."""
    async with Runner(tool, "auto", confirm="off") as clean:
        writes = [ep for ep in (await clean.endpoints())[0] if is_write(*ep)]
    switch = SimSwitch()
    sim = switch.sim
    async with connect(switch.server(confirm="token"), mode) as client:
        args = await prepare(client, sim, tool, DemoIds.of(sim))
        preview = await _call(client, tool, args)
        assert not preview.is_error and preview.structured_content is not None, text_of(preview)
        assert not [e for e in sim.request_log if is_write(e.method, e.path)], f"{tool}: the preview wrote"
        token = token_of(preview.structured_content)
        for method, path in writes:
            Failure("lost", {"kind": "timeout_after"}, ()).inject(sim, method=method, path=path, times=-1)
        lost = await _call(client, tool, {**args, "confirmation_token": token})
        sent = [(e.method, e.path) for e in sim.request_log if (e.method, e.path) in writes]
        again = await _call(client, tool, {**args, "confirmation_token": token})
    assert_no_key(text_of(lost), text_of(again))
    assert sent, f"{tool}: the confirmed write was not sent"
    assert "may or may not" in text_of(lost) or '"unknown"' in text_of(lost), text_of(lost)
    # Refused either because the token is spent or because the preview now sees the action already happened.
    refusals = ("already used", "on a call right now", "no active number", "Not found (404)")
    assert again.is_error and any(r in text_of(again) for r in refusals), text_of(again)
    assert [(e.method, e.path) for e in sim.request_log if (e.method, e.path) in writes] == sent, (
        f"{tool}: the write was sent again"
    )
