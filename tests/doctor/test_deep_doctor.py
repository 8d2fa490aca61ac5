"""`telli-mcp doctor --deep` against the simulator: what it reports, what it sends, and when it stops."""

from __future__ import annotations

import io
import json
import re

import pytest
from deep_helpers import BASELINE, FindingKey, SleepRecorder, check, demo_simulator, findings, outcomes
from pydantic import SecretStr

from telli_mcp.client import TelliClient
from telli_mcp.contract.document import load_contract
from telli_mcp.doctor.connection import REJECTED_KEY_ADVICE
from telli_mcp.doctor.deep import REQUEST_BUDGET, ReadOnlyProbe, RequestBudget, Target, WriteRefused
from telli_mcp.doctor.deep.command import run_deep_doctor
from telli_mcp.doctor.deep.render import render_json, render_text
from telli_mcp.simulator import DEMO_API_KEY, TEST_API_KEY, BodyEdit, Fault, TelliSimulator

pytestmark = pytest.mark.anyio

WRONG_KEY = "doctor-deep-wrong-key-Hq72Lx"
READS = frozenset(op.operation_id for op in load_contract().operations if op.read_only)


def _only_reads(sim: TelliSimulator) -> None:
    for entry in sim.request_log:
        assert entry.method == "GET" or (entry.method, entry.path) == ("POST", "/v1/get-contacts-batch"), entry


async def test_a_faithful_telli_is_ok_everywhere_and_only_read() -> None:
    sim = demo_simulator()
    report = await check(sim)
    assert report.ok and report.stopped is None
    assert {result.operation for result in report.endpoints} == READS, "every documented read is checked"
    assert set(outcomes(report).values()) == {"ok"}
    assert findings(report) == BASELINE
    _only_reads(sim)
    assert len(sim.request_log) == report.requests_sent == len(READS) <= REQUEST_BUDGET
    assert all(not entry.violations for entry in sim.request_log), "every read is a valid request"


def _reshape(path: str, *edits: BodyEdit) -> Fault:
    return Fault(kind="reshape", method="GET", path=path, edits=edits, times=-1)


DRIFTS = {
    "renamed field": (
        _reshape("/v2/contacts", BodyEdit("data.*.firstName", "rename", to="first_name")),
        {
            ("list-contacts", "missing", "data[*].firstName", "drift"),
            ("list-contacts", "unknown", "data[*].first_name", "info"),
        },
    ),
    "null where a string is documented": (
        _reshape("/v1/get-contact/*", BodyEdit("first_name", "set", None)),
        {("get-contact-v1", "null", "first_name", "drift")},
    ),
    "extra field": (
        _reshape("/v1/list-calls", BodyEdit("calls.*.sentiment", "set", "positive")),
        {("list-calls", "unknown", "calls[*].sentiment", "info")},
    ),
    "v1 cursor under another name": (
        _reshape("/v1/list-calls", BodyEdit("next_cursor", "rename", to="nextCursor")),
        {("list-calls", "missing", "next_cursor", "drift"), ("list-calls", "unknown", "nextCursor", "info")},
    ),
    "v2 cursor under another name": (
        _reshape(
            "/v2/contacts",
            BodyEdit("pageInfo.nextCursor", "rename", to="cursor"),
            BodyEdit("pageInfo.endCursor", "delete"),
        ),
        {("list-contacts", "pagination", "pageInfo", "drift"), ("list-contacts", "unknown", "pageInfo.cursor", "info")},
    ),
    "wrong type": (
        _reshape("/v1/phone-numbers", BodyEdit("data.*.inOutboundPool", "set", "yes")),
        {("list-phone-numbers", "type", "data[*].inOutboundPool", "drift")},
    ),
    "wrong format": (
        _reshape("/v2/agents/*", BodyEdit("createdAt", "set", "2026-03-01")),
        {("get-agent", "format", "createdAt", "drift")},
    ),
    "a number out of the documented range": (
        _reshape("/v1/get-contact/*", BodyEdit("call_attempts", "set", -1)),
        {("get-contact-v1", "constraint", "call_attempts", "drift")},
    ),
    "a call status the contract does not know": (
        _reshape("/v1/get-call/*", BodyEdit("call.call_status", "set", "IN_PROGRESS")),
        {("get-call", "enum", "call.call_status", "drift")},
    ),
    "text where JSON is documented": (
        Fault(kind="text_body", method="GET", path="/v1/phone-numbers", times=-1),
        {("list-phone-numbers", "not_json", "body", "drift")},
    ),
}


@pytest.mark.parametrize(("fault", "expected"), DRIFTS.values(), ids=DRIFTS.keys())
async def test_each_drift_is_reported_exactly(fault: Fault, expected: set[FindingKey]) -> None:
    sim = demo_simulator()
    sim.inject(fault)
    report = await check(sim)
    assert findings(report) == BASELINE | expected
    drifted = {operation for operation, _, _, severity in expected if severity == "drift"}
    assert {op for op, outcome in outcomes(report).items() if outcome != "ok"} == drifted
    assert report.ok is not drifted


async def test_a_drift_names_the_expectation_and_counts_the_items_without_values() -> None:
    sim = demo_simulator()
    sim.inject(_reshape("/v2/contacts", BodyEdit("data.*.email", "set", 4711)))
    report = await check(sim)
    contacts = next(result for result in report.endpoints if result.operation == "list-contacts")
    (finding,) = contacts.findings
    assert (finding.kind, finding.field, finding.expected, finding.seen) == (
        "type",
        "data[*].email",
        "string or null",
        "integer",
    )
    assert finding.count == 5, "one finding for the five contacts of the page"
    assert "type          data[*].email: expected string or null; seen integer [in 5 places]" in render_text(report)
    assert "4711" not in render_text(report) + render_json(report)


async def test_a_body_telli_does_not_document_is_described_not_judged() -> None:
    sim = demo_simulator()
    sim.inject(Fault(kind="text_body", method="GET", path="/v1/verify-api-key"))
    report = await check(sim)
    assert report.ok and findings(report) == BASELINE
    verify = report.endpoints[0]
    assert [(f.kind, f.seen) for f in verify.findings] == [("undocumented", "a body that is not JSON")]


async def test_an_error_status_fails_that_endpoint_and_the_rest_is_still_checked() -> None:
    sim = demo_simulator()
    sim.inject(Fault(status=403, method="GET", path="/v1/list-calls", times=-1))
    report = await check(sim)
    calls = next(result for result in report.endpoints if result.operation == "list-calls")
    assert (calls.outcome, calls.status) == ("failed", 403)
    assert "not document" in calls.detail
    assert [(f.kind, f.expected, f.seen) for f in calls.findings] == [("status", "HTTP 200", "HTTP 403")]
    assert outcomes(report)["get-call"] == "not checked"
    assert report.stopped is None and sum(outcome == "ok" for outcome in outcomes(report).values()) == 12


async def test_a_rejected_key_stops_at_once_with_the_usual_advice() -> None:
    sim = demo_simulator()
    report = await check(sim, key=WRONG_KEY)
    first, *rest = report.endpoints
    assert (first.operation, first.outcome, first.status) == ("verify-api-key", "failed", 401)
    assert REJECTED_KEY_ADVICE in first.detail
    assert {result.outcome for result in rest} == {"not checked"}
    assert report.stopped == "telli rejected the key (401)"
    assert len(sim.request_log) == report.requests_sent == 1
    assert not report.ok
    assert WRONG_KEY not in render_text(report) + render_json(report)
    assert "attach" not in render_text(report), "a rejected key is the user's to fix, not a bug to report"


async def test_a_429_is_retried_after_the_wait_telli_asks_for() -> None:
    sim, sleep = demo_simulator(), SleepRecorder()
    sim.inject(Fault(status=429, retry_after=2, method="GET", path="/v2/agents"))
    report = await check(sim, sleep=sleep)
    assert sleep.delays == [2.0]
    assert report.ok and set(outcomes(report).values()) == {"ok"}
    assert [entry.status for entry in sim.requests_to("GET", "/v2/agents") if entry.path == "/v2/agents"] == [429, 200]
    assert report.requests_sent == len(sim.request_log) == len(READS) + 1


async def test_a_retry_after_longer_than_the_doctor_waits_stops_the_check() -> None:
    sim, sleep = demo_simulator(), SleepRecorder()
    sim.inject(Fault(status=429, retry_after=3600, method="GET", path="/v2/agents", times=-1))
    report = await check(sim, sleep=sleep)
    assert sleep.delays == [], "no waiting, and no asking again"
    agents = next(result for result in report.endpoints if result.operation == "list-agents")
    assert agents.outcome == "failed" and "Retry-After 3600 s" in agents.detail
    assert report.stopped is not None and "429" in report.stopped
    assert len(sim.request_log) == 2
    assert list(outcomes(report).values()).count("not checked") == len(READS) - 2


async def test_the_request_budget_holds_retries_included() -> None:
    sim = demo_simulator()
    sim.inject(Fault(status=503, times=-1))
    report = await check(sim, budget=7)
    assert len(sim.request_log) == report.requests_sent == 7
    assert report.stopped == "the request budget of 7 requests is spent"
    assert not report.ok


async def test_an_empty_account_is_ok_and_says_what_it_could_not_check() -> None:
    sim = TelliSimulator(api_keys=(TEST_API_KEY,))
    report = await check(sim, key=TEST_API_KEY)
    assert report.ok
    skipped = {result.operation: result.detail for result in report.endpoints if result.outcome == "not checked"}
    assert skipped == {
        "get-agent": "no agents yet",
        "get-contact": "no contacts yet",
        "get-contact-v1": "no contacts yet",
        "get-contacts-batch": "no contacts yet",
        "get-contact-by-external-id": "no contacts yet",
        "get-contact-by-external-id-v1": "no contacts yet",
        "get-call": "no calls yet",
    }
    assert "not checked  get-call" in render_text(report) and "(no calls yet)" in render_text(report)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v2/contacts"),
        ("DELETE", "/v2/contacts/3c90c3cc-0d44-4b50-8888-8dd25736052a"),
        ("POST", "/v1/schedule-call"),
        ("PATCH", "/v2/properties/contacts/plan"),
        ("GET", "/v1/list-contacts"),
    ],
)
async def test_the_probe_refuses_anything_the_contract_does_not_mark_read_only(method: str, path: str) -> None:
    sim = demo_simulator()
    budget = RequestBudget(5, SleepRecorder())
    async with TelliClient(DEMO_API_KEY, transport=sim.transport()) as client:
        probe = ReadOnlyProbe(client, budget, load_contract())
        with pytest.raises(WriteRefused):
            await probe.fetch(method, path, json={})
        assert probe.operation("POST", "/v1/get-contacts-batch").read_only, "read-only by the contract's mark"
    assert sim.request_log == [] and budget.used == 0


def _personal_data(sim: TelliSimulator) -> list[str]:
    account = sim.account(DEMO_API_KEY)
    values: list[str] = [DEMO_API_KEY]
    for contact in account.contacts.values():
        values += [contact.id, contact.first_name, contact.last_name, contact.phone_number]
        values += [value for value in (contact.email, contact.external_id) if value]
    for call in account.calls.values():
        values += [call.call_id, call.from_number, call.to_number]
        values += [line.content for line in call.transcript if line.content]
    values += [number.phone_number for number in account.phone_numbers.values()]
    values += [agent.id for agent in account.agents.values()]
    return values


async def test_the_report_holds_no_key_and_no_personal_data() -> None:
    sim = demo_simulator()
    sim.inject(
        _reshape(
            "/v2/contacts",
            BodyEdit("data.*.secretNote", "set", "Geheimnis-Zq9"),
            BodyEdit("data.*.lastName", "set", None),
        )
    )
    sim.inject(_reshape("/v1/get-call/*", BodyEdit("call.transcript", "set", 12345)))
    report = await check(sim)
    assert ("list-contacts", "unknown", "data[*].secretNote", "info") in findings(report)
    output = render_text(report) + render_json(report)
    for value in [*_personal_data(sim), "Geheimnis-Zq9", "12345"]:
        assert not re.search(rf"(?<![\w+]){re.escape(value)}(?!\w)", output), f"{value!r} leaked into the report"


def test_the_command_writes_the_json_report_and_exits_by_the_result(tmp_path: object) -> None:
    sim = demo_simulator()
    sim.inject(_reshape("/v2/contacts", BodyEdit("data.*.firstName", "rename", to="first_name")))
    path = f"{tmp_path}/report.json"
    out = io.StringIO()
    target = Target(SecretStr(DEMO_API_KEY), "the simulator", transport=sim.transport())
    assert run_deep_doctor(json_path=path, out=out, target=target, sleep=SleepRecorder()) == 1
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    assert document["ok"] is False and document["contract_version"] == load_contract().document["info"]["version"]
    assert document["requests_sent"] == len(READS)
    text = out.getvalue()
    assert "drift        list-contacts" in text and "missing       data[*].firstName" in text
    assert "telli-mcp doctor --deep --json report.json" in text and f"Report written to {path}" in text


def test_without_a_key_nothing_is_sent_and_every_read_is_unchecked(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    assert run_deep_doctor(json_path="-", out=out) == 1
    document = json.loads(out.getvalue())
    assert document["requests_sent"] == 0 and "TELLI_API_KEY is not set" in document["stopped"]
    assert {result["outcome"] for result in document["endpoints"]} == {"not checked"}
