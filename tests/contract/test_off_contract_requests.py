"""The strict simulator rejects every off-contract request with telli's error shape, naming the field, and
changes nothing; every documented request still passes.

Categories (issue: contract-true): unknown query parameters; unknown or wrong-case body fields; null in a
non-nullable field; wrong types, bad formats, out-of-range values and over-limit batches; a wrong or missing
Content-Type; and malformed ids in the path (400, not 404).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from contract_helpers import UNKNOWN_ID, Req, client_for, rename, seeded, set_path, state_of, valid_requests

from telli_mcp.contract import load_contract
from telli_mcp.contract.responses import check_response

pytestmark = pytest.mark.anyio

Mutation = Callable[[Req], Req]


def body_set(path: str, value: Any) -> Mutation:
    return lambda req: req.with_body(set_path(req.body, path, value))


def body_rename(path: str, to: str) -> Mutation:
    return lambda req: req.with_body(rename(req.body, path, to))


def query(**params: str) -> Mutation:
    return lambda req: dataclasses.replace(req, query={**req.query, **params})


def path_id(bad: str) -> Mutation:
    """Replace the last id-like segment of the path (a UUID or a property key) with `bad`."""

    def mutate(req: Req) -> Req:
        head, _, tail = req.path.rpartition("/")
        if tail == "replace":
            stem, _, _ = head.rpartition("/")
            return dataclasses.replace(req, path=f"{stem}/{bad}/replace")
        return dataclasses.replace(req, path=f"{head}/{bad}")

    return mutate


def items(count: int, path: str) -> Mutation:
    return lambda req: req.with_body({path: [set_path(req.body, f"{path}.0", req.body[path][0])[path][0]] * count})


# (operationId, category, mutation, the field the error must name)
OFF_CONTRACT: list[tuple[str, str, Mutation, str]] = [
    # v1 contacts
    ("add-contact", "wrong-case field", body_rename("external_contact_id", "externalContactId"), "externalContactId"),
    ("add-contact", "null", body_set("email", None), "email"),
    ("add-contact", "bad format", body_set("phone_number", "12345"), "phone_number"),
    ("add-contact", "bad format", body_set("external_url", "crm record 42"), "external_url"),
    ("add-contact", "wrong type", body_set("contact_details", ["plan", "gold"]), "contact_details"),
    (
        "add-contacts-batch",
        "wrong-case field",
        body_rename("contacts.0.first_name", "firstName"),
        "contacts[0].firstName",
    ),
    ("add-contacts-batch", "null", body_set("contacts.0.timezone", None), "contacts[0].timezone"),
    ("add-contacts-batch", "bad format", body_set("contacts.0.email", "ada-at-example"), "contacts[0].email"),
    ("add-contacts-batch", "over limit", items(1001, "contacts"), "contacts"),
    ("get-contact-v1", "malformed id", path_id("not-a-uuid"), "contactId"),
    ("get-contacts-batch", "wrong-case field", body_rename("contact_ids", "contactIds"), "contactIds"),
    ("get-contacts-batch", "null", body_set("contact_ids", None), "contact_ids"),
    ("get-contacts-batch", "bad format", body_set("contact_ids.0", "nope"), "contact_ids[0]"),
    ("get-contacts-batch", "over limit", items(1001, "contact_ids"), "contact_ids"),
    ("update-contact-v1", "wrong-case field", body_rename("first_name", "firstName"), "firstName"),
    ("update-contact-v1", "null", body_set("salutation", None), "salutation"),
    ("update-contact-v1", "bad format", body_set("timezone", "Mars/Olympus"), "timezone"),
    (
        "update-contacts-batch",
        "wrong-case field",
        body_rename("contacts.0.contact_id", "contactId"),
        "contacts[0].contactId",
    ),
    ("update-contacts-batch", "null", body_set("contacts.0.email", None), "contacts[0].email"),
    (
        "update-contacts-batch",
        "bad format",
        body_set("contacts.0.phone_number", "030 1234567"),
        "contacts[0].phone_number",
    ),
    ("update-contacts-batch", "over limit", items(1001, "contacts"), "contacts"),
    ("delete-contact-v1", "malformed id", path_id("42"), "contact_id"),
    # v1 dialer and calls
    ("schedule-call", "wrong-case field", body_rename("agent_id", "agentId"), "agentId"),
    ("schedule-call", "null", body_set("max_retry_days", None), "max_retry_days"),
    ("schedule-call", "null", body_set("override_from_number", None), "override_from_number"),
    ("schedule-call", "out of range", body_set("max_retry_days", -1), "max_retry_days"),
    ("schedule-call", "unknown field", body_set("call_details", {"message": "hi"}), "call_details"),
    ("schedule-calls-batch", "wrong-case field", body_set("contacts.0.maxRetryDays", 3), "contacts[0].maxRetryDays"),
    (
        "schedule-calls-batch",
        "null",
        body_set("contacts.0.override_from_number", None),
        "contacts[0].override_from_number",
    ),
    ("schedule-calls-batch", "bad format", body_set("contacts.0.agent_id", "agent-1"), "contacts[0].agent_id"),
    ("schedule-calls-batch", "over limit", items(51, "contacts"), "contacts"),
    ("initiate-call", "wrong-case field", body_rename("contact_id", "contactId"), "contactId"),
    ("initiate-call", "null", body_set("override_from_number", None), "override_from_number"),
    ("initiate-call", "wrong type", body_set("max_retry_days", 2.5), "max_retry_days"),
    ("get-call", "malformed id", path_id("call-1"), "callId"),
    ("list-calls", "wrong-case query", query(contactId=UNKNOWN_ID), "contactId"),
    ("list-calls", "out of range", query(limit="101"), "limit"),
    ("list-calls", "wrong type", query(limit="ten"), "limit"),
    ("list-calls", "bad format", query(contact_id="42"), "contact_id"),
    ("remove-from-auto-dialer", "wrong-case field", body_rename("contact_id", "contactId"), "contactId"),
    ("remove-from-auto-dialer", "null", body_set("contact_id", None), "contact_id"),
    ("remove-from-auto-dialer", "bad format", body_set("contact_id", "nope"), "contact_id"),
    ("remove-from-auto-dialer-batch", "wrong-case field", body_rename("contact_ids", "contactIds"), "contactIds"),
    ("remove-from-auto-dialer-batch", "null", body_set("contact_ids.0", None), "contact_ids[0]"),
    ("remove-from-auto-dialer-batch", "wrong type", body_set("contact_ids", "one-id"), "contact_ids"),
    ("remove-from-auto-dialer-batch", "over limit", items(51, "contact_ids"), "contact_ids"),
    # v1 phone numbers
    ("import-phone-number", "wrong-case field", body_rename("phoneNumber", "phone_number"), "phone_number"),
    ("import-phone-number", "null", body_set("authUsername", None), "authUsername"),
    ("import-phone-number", "bad format", body_set("phoneNumber", "5550177"), "phoneNumber"),
    ("replace-phone-number", "unknown field", body_set("phoneNumber", "+15550178"), "phoneNumber"),
    ("replace-phone-number", "malformed id", path_id("pn-1"), "phoneNumberId"),
    ("delete-phone-number", "malformed id", path_id("pn-1"), "phoneNumberId"),
    # v2 contacts
    ("create-contact", "wrong-case field", body_rename("lastName", "last_name"), "last_name"),
    ("create-contact", "wrong-case field", body_set("timezone", "Europe/Berlin"), "timezone"),
    ("create-contact", "null", body_set("firstName", None), "firstName"),
    ("create-contact", "bad format", body_set("externalUrl", "crm record 42"), "externalUrl"),
    ("create-contact", "too long", body_set("lastName", "x" * 51), "lastName"),
    ("create-contact", "wrong type", body_set("properties", {"plan": "gold"}), "properties"),
    ("list-contacts", "unknown query", query(page="2"), "page"),
    ("list-contacts", "out of range", query(limit="0"), "limit"),
    ("get-contact", "malformed id", path_id("not-a-uuid"), "contactId"),
    ("update-contact", "wrong-case field", body_rename("firstName", "first_name"), "first_name"),
    ("update-contact", "null", body_set("lastName", None), "lastName"),
    ("update-contact", "null", body_set("phoneNumber", None), "phoneNumber"),
    ("update-contact", "bad format", body_set("email", "ada-at-example"), "email"),
    ("update-contact", "malformed id", path_id("not-a-uuid"), "contactId"),
    ("replace-contact", "wrong-case field", body_rename("phoneNumber", "phone_number"), "phone_number"),
    ("replace-contact", "null", body_set("phoneNumber", None), "phoneNumber"),
    ("replace-contact", "too long", body_set("phoneNumber", "+1" + "5" * 19), "phoneNumber"),
    ("delete-contact", "malformed id", path_id("not-a-uuid"), "contactId"),
    # v2 properties and agents
    ("create-contact-property", "wrong-case field", body_rename("dataType", "data_type"), "data_type"),
    ("create-contact-property", "null", body_set("label", None), "label"),
    ("create-contact-property", "bad pattern", body_set("key", "-tier"), "key"),
    ("create-contact-property", "bad enum", body_set("dataType", "text"), "dataType"),
    ("get-contact-property", "malformed key", path_id("bad%20key!"), "key"),
    ("update-contact-property", "wrong-case field", body_rename("label", "Label"), "Label"),
    ("update-contact-property", "null", body_set("label", None), "label"),
    ("update-contact-property", "wrong type", body_set("options", "gold"), "options"),
    ("list-agents", "out of range", query(limit="500"), "limit"),
    ("get-agent", "malformed id", path_id("agent-1"), "agentId"),
]

BODY_OPERATIONS = sorted(op.operation_id for op in load_contract().operations if op.body_validator is not None)
ALL_OPERATIONS = sorted(op.operation_id for op in load_contract().operations)


def ids_of(case: tuple[str, str, Mutation, str]) -> str:
    return f"{case[0]}:{case[1]}:{case[3]}"


async def assert_rejected(req: Req, field: str) -> None:
    sim, account, _ = seeded()
    before = state_of(account)
    async with client_for(sim) as client:
        response = await req.send(client)
    assert response.status_code == 400, response.text
    body = response.json()
    if req.version == "v2":
        assert body["code"] == "VALIDATION_ERROR"
        assert body["data"]["field"] == field
    else:
        assert set(body) == {"message"}
    assert body["message"].startswith(field) or f" {field}" in body["message"], body["message"]
    assert state_of(account) == before
    assert sim.request_log[-1].violations


def valid(operation_id: str) -> Req:
    _, _, ids = seeded()
    return valid_requests(ids)[operation_id]


@pytest.mark.parametrize("case", OFF_CONTRACT, ids=ids_of)
async def test_an_off_contract_request_is_rejected_naming_the_field(case: tuple[str, str, Mutation, str]) -> None:
    operation_id, _, mutate, field = case
    await assert_rejected(mutate(valid(operation_id)), field)


@pytest.mark.parametrize("operation_id", ALL_OPERATIONS)
async def test_an_unknown_query_parameter_is_rejected(operation_id: str) -> None:
    await assert_rejected(query(includeDeleted="true")(valid(operation_id)), "includeDeleted")


@pytest.mark.parametrize("operation_id", BODY_OPERATIONS)
async def test_an_unknown_body_field_is_rejected(operation_id: str) -> None:
    req = valid(operation_id)
    await assert_rejected(req.with_body({**req.body, "priority": "high"}), "priority")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
@pytest.mark.parametrize("operation_id", BODY_OPERATIONS)
async def test_a_body_without_the_json_content_type_is_rejected(operation_id: str, content_type: str | None) -> None:
    req = dataclasses.replace(valid(operation_id), content_type=content_type)
    await assert_rejected(req, "Content-Type")


@pytest.mark.parametrize("operation_id", BODY_OPERATIONS)
async def test_a_body_that_is_not_an_object_is_rejected(operation_id: str) -> None:
    await assert_rejected(valid(operation_id).with_body(["not", "an", "object"]), "body")


@pytest.mark.parametrize("operation_id", ALL_OPERATIONS)
async def test_every_documented_request_still_passes(operation_id: str) -> None:
    sim, _, ids = seeded()
    async with client_for(sim) as client:
        response = await valid_requests(ids)[operation_id].send(client)
    assert response.is_success, response.text
    assert sim.request_log[-1].violations == ()


def test_the_tables_cover_every_documented_endpoint() -> None:
    _, _, ids = seeded()
    assert set(valid_requests(ids)) == set(ALL_OPERATIONS)
    specific = {operation_id for operation_id, *_ in OFF_CONTRACT}
    with_path_ids = {op.operation_id for op in load_contract().operations if op.path_params}
    without_specific = set(ALL_OPERATIONS) - specific - with_path_ids
    # Endpoints with neither a body, a typed path id nor a limit are covered by the unknown-query test alone.
    assert without_specific <= {
        "get-contact-by-external-id-v1", "get-contact-by-external-id", "list-phone-numbers", "verify-api-key",
        "list-contact-properties",
    }  # fmt: skip
    assert set(BODY_OPERATIONS) <= {operation_id for operation_id, kind, *_ in OFF_CONTRACT if kind == "null"} | {
        "replace-phone-number"
    }


async def test_a_request_without_a_required_body_is_rejected() -> None:
    await assert_rejected(valid("schedule-call").with_body(None), "body")


async def test_a_body_on_a_get_is_rejected() -> None:
    await assert_rejected(valid("list-calls").with_body({"limit": 10}), "body")


async def test_both_call_filters_at_once_are_rejected() -> None:
    both = query(contact_id=UNKNOWN_ID, agent_id=UNKNOWN_ID)
    await assert_rejected(both(valid("list-calls")), "agent_id")


@pytest.mark.parametrize("operation_id", ALL_OPERATIONS)
async def test_every_simulator_answer_has_the_documented_shape(operation_id: str) -> None:
    """The simulator's answers are checked by the same contract the live drift check uses, so the drift check's
    "ok" against the sandbox means the two agree, and a drifted real telli shows up as a difference."""
    sim, _, ids = seeded()
    async with client_for(sim) as client:
        response = await valid_requests(ids)[operation_id].send(client)
    body = response.json() if response.content else None
    operation = load_contract().operation(operation_id)
    findings = check_response(operation, response.status_code, body)
    assert [f for f in findings if f.severity != "info"] == []
    assert [f for f in findings if f.kind == "unknown"] == []
