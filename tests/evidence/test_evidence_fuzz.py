"""Bad-input fuzzing of every tool's arguments, through the MCP client, in both protocol eras.

The tools and their argument schemas come from `list_tools`; each argument gets invalid values from its kind
(ids, phone numbers, timezones, emails, by name) and from its schema (wrong JSON type, out of range, too long,
pattern, enum). Invalid input must come back as an `isError` result that names the argument, and nothing may
reach telli: the simulator's request log stays empty, including the reads a confirmation preview would make
(the server asks through elicitation here, so resolvers would run if validation let the call through).
Valid-looking ids of things that do not exist may cause reads, never a change at telli, and never a write from
a tool that asks for confirmation.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from evidence_helpers import (
    MODES,
    STARTED_CAMPAIGN,
    DemoIds,
    SimSwitch,
    assert_no_key,
    is_write,
    listed_tool_schemas,
    our_message,
    telli_state,
    text_of,
    valid_arguments,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.types import CallToolResult
from mcp_helpers import Answers, connect

from telli_mcp.simulator import TelliSimulator

SCHEMAS = listed_tool_schemas()
GUARDED_TOOLS = frozenset(
    {"delete_contact", "schedule_calls", "call_now", "replace_phone_number", "delete_phone_number", "start_campaign"}
)
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
MARKER = "evidence-extra-7f3a"


# --- the harness: one simulator, server and MCP connection per era, driven from sync hypothesis tests ---------


@dataclass
class Harness:
    portal: BlockingPortal
    client: Client
    switch: SimSwitch
    ids: DemoIds

    @property
    def sim(self) -> TelliSimulator:
        return self.switch.sim

    def call(self, tool: str, args: dict[str, Any]) -> CallToolResult:
        self.sim.request_log.clear()
        return self.portal.call(self._call, tool, args)

    async def _call(self, tool: str, args: dict[str, Any]) -> CallToolResult:
        with anyio.fail_after(10):
            return await self.client.call_tool(tool, args)

    def base(self, tool: str) -> dict[str, Any]:
        """Valid arguments (a campaign id that merely looks right where one is needed)."""
        args = valid_arguments(self.ids)[tool]
        return {k: "c-evidence" if v == STARTED_CAMPAIGN else v for k, v in args.items()}


@pytest.fixture(scope="module", params=MODES)
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    switch = SimSwitch()
    server = switch.server(confirm="auto")
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(connect(server, str(request.param), Answers("accept"))) as client,
    ):
        yield Harness(portal, client, switch, DemoIds.of(switch.sim))


# --- invalid values, by what an argument means and by its schema -------------------------------------------------

TRAVERSALS = [
    "../v2/agents",
    "../../v1/phone-numbers",
    "..%2F..%2Fv2%2Fagents",
    "%2e%2e%2f",
    "./",
    "..",
    "3c90c3cc-0d44-4b50-8888-8dd25736052a/../../v2/agents",
    "3c90c3cc-0d44-4b50-8888-8dd25736052a?x=1",
    "3c90c3cc-0d44-4b50-8888-8dd25736052a#",
    "/v2/agents",
    "\\..\\..\\",
    "*",
]
HOSTILE = [
    "",
    " ",
    "\x00",
    "null",
    "Ä" * 40,
    "\u202e1234\u202c",
    "3c90c3cc\u200b-0d44-4b50-8888-8dd25736052a",
    "x" * 100_000,
    "😀" * 64,
]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value.strip())
    except ValueError:
        return False
    return True


def _zone_exists(value: str) -> bool:
    try:
        ZoneInfo(value)
    except Exception:
        return False
    return True


def _plain(value: str, pattern: str) -> bool:
    return re.fullmatch(pattern.removeprefix("^").removesuffix("$"), value) is not None


def not_uuids() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(TRAVERSALS + HOSTILE), st.text(max_size=80)).filter(lambda s: not _is_uuid(s))


def not_agent_ids() -> st.SearchStrategy[str]:
    bad_char = st.sampled_from(list("/\\.?#% :;'\"<>\n\t@&=+"))
    with_bad_char = st.tuples(st.text(max_size=10), bad_char, st.text(max_size=10)).map("".join)
    return st.one_of(st.sampled_from([*TRAVERSALS, "", "   ", "a" * 129]), with_bad_char).filter(
        lambda s: not s.strip() or len(s.strip()) > 128 or any(not (c.isalnum() or c in "-_") for c in s.strip())
    )


def not_phones() -> st.SearchStrategy[str]:
    no_plus = st.from_regex(r"\A[0-9 ()-]{0,20}\Z")
    no_digits = st.from_regex(r"\A\+[^0-9]{0,12}\Z").filter(lambda s: not any(c.isdigit() or c.isalpha() for c in s))
    too_long = st.integers(20, 60).map(lambda n: "+" + "4" * n)
    return st.one_of(no_plus, no_digits, too_long, st.sampled_from(["", "++", "+", "0049 151 1234567", "tel:+49"]))


def not_timezones() -> st.SearchStrategy[str]:
    known = [
        "Europe/Berlinn",
        "Mars/Olympus_Mons",
        "../../etc/passwd",
        "/etc/localtime",
        "Europe/../Europe/Berlin",
        "europe/berlin",
        "Europe/Berlin\u200b",
        "UTC+25",
        "",
        "Europe/",
        "iso3166.tab",
    ]
    return st.one_of(st.sampled_from(known), st.text(max_size=40)).filter(lambda s: not _zone_exists(s))


def not_emails() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["no-at-sign", "a@b", "a b@c.de", "@example.com", "x@", "x" * 300 + "@e.de"]),
        st.text(alphabet="abc. ", max_size=20),
    )


KINDS = {
    "contact_id": not_uuids,
    "call_id": not_uuids,
    "agent_id": not_agent_ids,
    "phone_number": not_phones,
    "from_number": not_phones,
    "timezone": not_timezones,
    "email": not_emails,
}
"""Arguments whose meaning adds checks beyond their JSON schema."""


def wrong_types(schema: dict[str, Any], *, required: bool) -> st.SearchStrategy[Any]:
    kind = schema.get("type")
    others: dict[str, st.SearchStrategy[Any]] = {
        "string": st.one_of(
            st.integers(),
            st.floats(allow_nan=False),
            st.booleans(),
            st.lists(st.text(max_size=3), max_size=2),
            st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        ),
        "integer": st.one_of(
            st.sampled_from(["abc", "1e999", "", "ten"]),
            st.floats(allow_nan=False).filter(lambda f: f != int(f) if f == f and abs(f) < 1e300 else True),
            st.lists(st.integers(), max_size=2),
        ),
        "boolean": st.one_of(st.sampled_from(["maybe", "", "2"]), st.integers(2, 100), st.lists(st.booleans())),
        "array": st.one_of(st.text(max_size=5), st.integers(), st.dictionaries(st.text(max_size=3), st.integers())),
        "object": st.one_of(st.text(max_size=5), st.integers(), st.lists(st.integers(), max_size=2)),
    }
    strategy = others.get(str(kind), st.nothing())
    return st.one_of(strategy, st.none()) if required else strategy


def out_of_bounds(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    options: list[st.SearchStrategy[Any]] = []
    if "minimum" in schema:
        options.append(st.integers(-(10**6), schema["minimum"] - 1))
    if "maximum" in schema:
        options.append(st.integers(schema["maximum"] + 1, 10**9))
    if schema.get("minLength", 0) >= 1:
        options.append(st.just(""))
    if "maxLength" in schema:
        options.append(st.integers(schema["maxLength"] + 1, schema["maxLength"] + 50).map(lambda n: "x" * n))
    if "maxItems" in schema and schema["maxItems"] <= 200:
        options.append(st.just(["x"] * (schema["maxItems"] + 1)))
    if schema.get("minItems", 0) >= 1:
        options.append(st.just([]))
    if "enum" in schema:
        options.append(st.text(max_size=12).filter(lambda s: s not in schema["enum"]))
    if "pattern" in schema:
        pattern = schema["pattern"]
        options.append(
            st.one_of(st.sampled_from(TRAVERSALS + HOSTILE[:6]), st.text(max_size=30)).filter(
                lambda s: not _plain(s, pattern)
            )
        )
    return st.one_of(options) if options else st.nothing()


def invalid_values(field: str, schema: dict[str, Any], *, required: bool) -> st.SearchStrategy[Any]:
    if field == "contact_ids":  # a list of contact ids: one bad id, or the same id twice
        good = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
        return st.one_of(
            not_uuids().map(lambda bad: [good, bad]),
            st.just([good, good]),
            wrong_types(schema, required=required),
            out_of_bounds(schema),
        )
    strategies = [wrong_types(schema, required=required), out_of_bounds(schema)]
    if field in KINDS:
        strategies.append(KINDS[field]())
    return st.one_of(strategies)


FIELDS = sorted(
    (tool, field)
    for tool, schema in SCHEMAS.items()
    for field, spec in schema.get("properties", {}).items()
    if field != "leads_file"  # a path: any string is a well-formed one (see the security suite)
)


@st.composite
def invalid_call(draw: st.DrawFn) -> tuple[str, str, Any]:
    tool, field = draw(st.sampled_from(FIELDS))
    schema = SCHEMAS[tool]
    spec = schema["properties"][field]
    value = draw(invalid_values(field, spec, required=field in schema.get("required", [])))
    return tool, field, value


MEANINGFUL = sorted({field for _, field in FIELDS if field in KINDS or field == "contact_ids"})


def _wrong_type_of(spec: dict[str, Any]) -> Any:
    return {"string": 12345, "integer": "twelve", "boolean": "maybe", "array": "x", "object": "x"}[spec["type"]]


# --- checks ------------------------------------------------------------------------------------------------------


def _refused(result: CallToolResult, tool: str, field: str, sim: TelliSimulator, label: str) -> None:
    message = our_message(result, tool)
    assert result.is_error, f"{label}: accepted: {text_of(result)[:300]}"
    assert field in message, f"{label}: the error does not name {field!r}: {message[:300]}"
    assert not sim.request_log, f"{label}: reached telli: {[(e.method, e.path) for e in sim.request_log]}"
    assert "Traceback" not in message and message != "", label
    assert_no_key(message)


def test_every_argument_of_every_listed_tool_is_fuzzed() -> None:
    with_args = {tool for tool, schema in SCHEMAS.items() if schema.get("properties")}
    assert {tool for tool, _ in FIELDS} == with_args
    assert {"contact_id", "call_id", "agent_id", "phone_number", "timezone", "contact_ids"} <= {f for _, f in FIELDS}


@FUZZ
@given(case=invalid_call())
def test_an_invalid_argument_is_refused_by_name_before_anything_is_sent(
    harness: Harness, case: tuple[str, str, Any]
) -> None:
    tool, field, value = case
    result = harness.call(tool, {**harness.base(tool), field: value})
    _refused(result, tool, field, harness.sim, f"{tool}({field}={str(value)[:60]!r})")


@pytest.mark.parametrize("field", MEANINGFUL)
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_an_invalid_id_phone_timezone_or_email_is_refused_before_anything_is_sent(
    harness: Harness, field: str, data: st.DataObject
) -> None:
    tool = data.draw(st.sampled_from(sorted(t for t, f in FIELDS if f == field)))
    spec = SCHEMAS[tool]["properties"][field]
    value = data.draw(invalid_values(field, spec, required=False) if field == "contact_ids" else KINDS[field]())
    result = harness.call(tool, {**harness.base(tool), field: value})
    _refused(result, tool, field, harness.sim, f"{tool}({field}={str(value)[:60]!r})")


def test_each_argument_of_each_tool_refuses_a_wrong_type_and_an_out_of_range_value(harness: Harness) -> None:
    """Deterministic floor under the fuzzing: every (tool, argument) pair is tried at least once each way."""
    for tool, field in FIELDS:
        spec = SCHEMAS[tool]["properties"][field]
        values = (
            [_wrong_type_of(spec)] if spec.get("type") in ("string", "integer", "boolean", "array", "object") else []
        )
        values += [
            v
            for v in (
                spec.get("minimum", 0) - 1 if "minimum" in spec else None,
                spec["maximum"] + 1 if "maximum" in spec else None,
                "x" * (spec["maxLength"] + 1) if "maxLength" in spec else None,
            )
            if v is not None
        ]
        assert values or spec.get("type") in (None,), f"{tool}.{field}: no invalid value for {spec}"
        for value in values:
            result = harness.call(tool, {**harness.base(tool), field: value})
            _refused(result, tool, field, harness.sim, f"{tool}({field}={str(value)[:40]!r})")


@pytest.mark.parametrize("tool", sorted(tool for tool, schema in SCHEMAS.items() if schema.get("required")))
def test_a_missing_required_argument_is_refused_by_name(harness: Harness, tool: str) -> None:
    for field in SCHEMAS[tool]["required"]:
        args = {k: v for k, v in harness.base(tool).items() if k != field}
        result = harness.call(tool, args)
        _refused(result, tool, field, harness.sim, f"{tool} without {field}")


@FUZZ
@given(
    tool=st.sampled_from(sorted(SCHEMAS)),
    field=st.sampled_from(["ctx", "answer", "api_key", "password", "__proto__", "base_url", "x" * 300]),
    bad=st.sampled_from(FIELDS),
)
def test_extra_arguments_change_nothing_and_never_reach_telli(
    harness: Harness, tool: str, field: str, bad: tuple[str, str]
) -> None:
    """An unknown argument is ignored: invalid input is still refused, and it is never passed on to telli."""
    extra = {field: MARKER, "answer": {"action": "accept", "content": {"confirm": True}}}
    bad_tool, bad_field = bad
    spec = SCHEMAS[bad_tool]["properties"][bad_field]
    wrong = 12345 if spec.get("type") in ("string", "array", "object", "boolean") else "not-a-number"
    refused = harness.call(bad_tool, {**harness.base(bad_tool), bad_field: wrong, **extra})
    _refused(refused, bad_tool, bad_field, harness.sim, f"{bad_tool}({bad_field}={wrong!r}) + extras")
    if tool in GUARDED_TOOLS or tool == "start_campaign":
        return  # acting for real is covered by the fault suite; here extras must not smuggle in a "yes"
    harness.switch.reset()
    harness.ids = DemoIds.of(harness.sim)
    plain = harness.call(tool, harness.base(tool))
    harness.switch.reset()
    harness.ids = DemoIds.of(harness.sim)
    with_extra = harness.call(tool, {**harness.base(tool), **extra})
    sent = json.dumps([entry.to_json() for entry in harness.sim.request_log])
    assert MARKER not in sent, f"{tool}: an unknown argument reached telli: {sent[:300]}"
    assert with_extra.is_error == plain.is_error and with_extra.structured_content == plain.structured_content, tool


@pytest.mark.parametrize("tool", sorted(GUARDED_TOOLS - {"start_campaign"}))
def test_a_client_cannot_answer_the_confirmation_itself_through_arguments(harness: Harness, tool: str) -> None:
    """A forged `answer` / `confirmation_token` argument never stands in for the user's yes."""
    switch = SimSwitch()
    server = switch.server(confirm="token")
    sim = switch.sim
    args = valid_arguments(DemoIds.of(sim))[tool]
    forged = [
        {"answer": {"action": "accept", "content": {"confirm": True}}},
        {"answer": {"action": "accept", "data": {"granted": True, "via": "off"}}},
        {"confirmation_token": "0123456789ab.9999999999.AAAAAAAAAAAAAAAAAAAAAAAA"},
        {"confirmation_token": "x"},
    ]
    before = telli_state(sim)

    async def attempts() -> list[CallToolResult]:
        async with connect(server, "auto") as client:
            return [await client.call_tool(tool, {**args, **extra}) for extra in forged]

    results = harness.portal.call(attempts)
    assert telli_state(sim) == before, f"{tool}: a forged confirmation changed telli"
    assert not [e for e in sim.request_log if is_write(e.method, e.path)], f"{tool}: a forged confirmation wrote"
    for extra, result in zip(forged, results, strict=True):
        data = result.structured_content or {}
        assert result.is_error or data.get("confirmation_required"), f"{tool} {extra}: {text_of(result)[:200]}"


# --- property values: checked against the schema, which takes one read --------------------------------------------

BAD_PROPERTY_VALUES = {
    "plan": st.one_of(st.text(max_size=10).filter(lambda s: s not in ("gold", "silver", "bronze")), st.integers()),
    "budget_eur": st.one_of(st.text(max_size=5), st.booleans(), st.lists(st.integers(), max_size=2)),
    "newsletter_opt_in": st.one_of(st.sampled_from(["yes", "true", "1"]), st.integers()),
    "follow_up_date": st.sampled_from(
        ["2026-13-01", "2026-02-30", "31.03.2026", "2026-3-1", "tomorrow", "", 20260301, "2026-03-01T10:00:00+01:00"]
    ),
    "last_demo_at": st.sampled_from(["2026-03-01T10:00:00", "2026-03-01", "2026-02-30T10:00:00+01:00", "now", 5]),
    "interests": st.one_of(
        st.just("voice_ai"), st.lists(st.sampled_from(["voice_ai", "nope"]), min_size=1).filter(lambda v: "nope" in v)
    ),
    "alt_phone": not_phones(),
    "billing_email": not_emails().filter(lambda s: len(s) <= 254),
    "no_such_property": st.just("x"),
}


@FUZZ
@given(
    tool=st.sampled_from(["create_contact", "update_contact"]),
    key=st.sampled_from(sorted(BAD_PROPERTY_VALUES)),
    data=st.data(),
)
def test_an_invalid_property_value_is_refused_after_reading_only_the_schema(
    harness: Harness, tool: str, key: str, data: st.DataObject
) -> None:
    value = data.draw(BAD_PROPERTY_VALUES[key])
    result = harness.call(tool, {**harness.base(tool), "properties": {key: value}})
    label = f"{tool}(properties={{{key!r}: {str(value)[:40]!r}}})"
    assert result.is_error and key in our_message(result, tool), f"{label}: {text_of(result)[:300]}"
    sent = [(e.method, e.path) for e in harness.sim.request_log]
    assert set(sent) <= {("GET", "/v2/properties/contacts")}, f"{label}: sent {sent}"


# --- ids that look right but do not exist --------------------------------------------------------------------------

ID_FIELDS = {
    "contact_id": st.uuids().map(str),
    "call_id": st.uuids().map(str),
    "contact_ids": st.lists(st.uuids().map(str), min_size=1, max_size=3, unique=True),
    "agent_id": st.one_of(st.uuids().map(str), st.from_regex(r"\A[a-z][a-z0-9_-]{0,30}\Z")),
    "phone_number_id": st.one_of(st.uuids().map(str), st.from_regex(r"\A[A-Za-z0-9_-]{1,40}\Z")),
    "key": st.from_regex(r"\Aev[a-z0-9_]{1,20}\Z"),
    "campaign_id": st.from_regex(r"\Ac-[a-z0-9]{10}\Z"),
    "from_number": st.integers(10_000, 99_999).map(lambda n: f"+4930901{n}"),
}
UNKNOWN_ID_CASES = sorted(
    (tool, field)
    for tool, field in FIELDS
    # a new property key, and a new campaign id, create rather than look up
    if field in ID_FIELDS
    and (tool, field) not in {("create_contact_property", "key"), ("start_campaign", "campaign_id")}
)


@FUZZ
@given(case=st.sampled_from(UNKNOWN_ID_CASES), data=st.data())
def test_ids_that_do_not_exist_may_be_read_but_never_change_anything(
    harness: Harness, case: tuple[str, str], data: st.DataObject
) -> None:
    tool, field = case
    value = data.draw(ID_FIELDS[field])
    sim = harness.switch.reset()
    harness.ids = DemoIds.of(sim)
    before = telli_state(sim)
    result = harness.call(tool, {**harness.base(tool), field: value})
    label = f"{tool}({field}={value!r})"
    writes = [(e.method, e.path) for e in sim.request_log if is_write(e.method, e.path)]
    assert telli_state(sim) == before, f"{label}: changed telli ({writes})"
    if tool in GUARDED_TOOLS:
        assert not writes, f"{label}: a guarded tool wrote for an unknown id: {writes}"
    assert_no_key(text_of(result))
    if result.is_error:
        assert len(our_message(result, tool)) > 20, f"{label}: bare error {text_of(result)!r}"
    else:  # the only successes: empty lists, or the unknown ids reported back as problems / not in the dialer
        shown = json.dumps(result.structured_content)
        assert tool.startswith("list_") or all(
            str(v).lower() in shown.lower() for v in (value if isinstance(value, list) else [value])
        ), f"{label}: success without saying the id was unknown: {shown[:300]}"
