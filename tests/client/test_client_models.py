"""Parsing telli's documented payloads into the client's models."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import SecretStr, ValidationError

from telli_mcp.client import (
    Agent,
    Call,
    CallDetails,
    CallStatus,
    Contact,
    ContactStatus,
    ContactUpdate,
    ContactV1,
    Page,
    PhoneNumberImport,
    PropertyDataType,
    PropertyDefinition,
    PropertyOption,
    PropertyValueInput,
    ScheduleCall,
)

# The official call_ended webhook example (reference §3.5), verbatim apart from the fictional numbers.
CALL_EXAMPLE = {
    "call_id": "b4a05730-2abc-4eb0-8066-2e4d23b53ba9",
    "attempt": 1,
    "from_number": "+12025550101",
    "to_number": "+12025550102",
    "external_contact_id": "external-123",
    "contact_id": "6bd1e7e0-6d00-4c0b-ad5b-daa72457a27d",
    "agent_id": "d8931604-92ad-45cf-9071-d9cd2afbad0c",
    "triggered_at": 1731956924302,
    "started_at": 1731956932264,
    "booked_slot_for": "2025-02-24T15:30:00Z",
    "ended_at": 1731957002078,
    "call_length_min": 2,
    "call_status": "COMPLETED",
    "transcript": "Agent: Hello...",
    "transcriptObject": [{"role": "agent", "content": "Hello..."}],
    "call_analysis": {
        "summary": {"value": True, "details": "A call about an ice cream machine"},
        "appointment": {"value": True, "details": "2025-02-18T15:30:00Z"},
    },
}


def test_call_timestamps_in_epoch_milliseconds_become_timezone_aware_datetimes() -> None:
    call = Call.model_validate(CALL_EXAMPLE)
    assert call.triggered_at == datetime(2024, 11, 18, 19, 8, 44, 302000, tzinfo=UTC)
    assert call.ended_at is not None
    assert call.ended_at.tzinfo is not None


def test_the_camel_case_transcript_object_key_is_read_into_transcript_object() -> None:
    call = Call.model_validate(CALL_EXAMPLE)
    assert [(turn.role, turn.content) for turn in call.transcript_object] == [("agent", "Hello...")]


def test_call_analysis_entries_are_parsed_and_the_status_is_an_enum() -> None:
    call = Call.model_validate(CALL_EXAMPLE)
    assert call.call_analysis["appointment"].details == "2025-02-18T15:30:00Z"
    assert call.call_status is CallStatus.COMPLETED


def test_an_unknown_call_status_is_kept_as_a_plain_string() -> None:
    call = Call.model_validate({**CALL_EXAMPLE, "call_status": "TRANSFERRED"})
    assert call.call_status == "TRANSFERRED"
    assert not isinstance(call.call_status, CallStatus)


def test_unknown_response_fields_are_kept_in_model_extra() -> None:
    call = Call.model_validate({**CALL_EXAMPLE, "sentiment": "positive"})
    assert call.model_extra == {"sentiment": "positive"}


def test_get_call_accepts_both_the_call_and_contact_envelope_and_a_bare_call() -> None:
    contact = {"contact_id": CALL_EXAMPLE["contact_id"], "status": "reached", "call_attempts": 1}
    wrapped = CallDetails.model_validate({"call": CALL_EXAMPLE, "contact": contact})
    bare = CallDetails.model_validate(CALL_EXAMPLE)
    assert wrapped.call == bare.call
    assert wrapped.contact is not None
    assert wrapped.contact.status is ContactStatus.REACHED
    assert bare.contact is None


def test_a_v2_contact_is_read_from_camel_case_into_snake_case_attributes() -> None:
    contact = Contact.model_validate(
        {
            "id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
            "type": "Contact",
            "externalId": "crm-123",
            "firstName": "Max",
            "lastName": "Muster",
            "phoneNumber": "+493012345678",
            "timezoneIana": "Europe/Berlin",
            "createdAt": "2023-11-07T05:31:56Z",
            "properties": [{"key": "plan", "dataType": "select", "value": "gold", "label": "Plan"}],
        }
    )
    assert (contact.first_name, contact.external_id, contact.timezone_iana) == (
        "Max",
        "crm-123",
        "Europe/Berlin",
    )
    assert contact.properties[0].data_type is PropertyDataType.SELECT
    assert contact.model_extra == {"type": "Contact"}


def test_an_unknown_property_data_type_does_not_break_parsing() -> None:
    definition = PropertyDefinition.model_validate(
        {"key": "score", "dataType": "rating", "source": "user", "label": "Score"}
    )
    assert definition.data_type == "rating"


def test_an_unknown_contact_status_is_kept_as_a_plain_string() -> None:
    assert ContactV1.model_validate({"contact_id": "x", "status": "paused"}).status == "paused"


def test_a_v2_page_reads_next_cursor_and_falls_back_to_end_cursor() -> None:
    current = Page[Agent].model_validate(
        {"data": [{"id": "a1"}], "pageInfo": {"hasNextPage": True, "nextCursor": "n1"}}
    )
    older = Page[Agent].model_validate({"data": [], "pageInfo": {"hasNextPage": True, "endCursor": "e1"}})
    last = Page[Agent].model_validate({"data": [], "pageInfo": {"hasNextPage": False, "nextCursor": "n2"}})
    assert (current.next_cursor, older.next_cursor, last.next_cursor) == ("n1", "e1", None)
    assert current.items[0].id == "a1"


def test_a_v1_calls_page_reads_calls_and_next_cursor() -> None:
    page = Page[Call].model_validate({"calls": [CALL_EXAMPLE], "next_cursor": "next+/=cursor"})
    assert page.next_cursor == "next+/=cursor"
    assert page.items[0].call_id == CALL_EXAMPLE["call_id"]


def test_a_contact_update_leaves_out_none_fields_but_sends_a_null_property_value() -> None:
    update = ContactUpdate(first_name="Erika", email=None, properties=[PropertyValueInput(key="plan", value=None)])
    assert update.to_wire() == {
        "firstName": "Erika",
        "properties": [{"key": "plan", "value": None}],
    }


def test_request_models_reject_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="extra"):
        ScheduleCall.model_validate(
            {"contact_id": CALL_EXAMPLE["contact_id"], "agent_id": "agent-1", "priority": "high"}
        )


def test_the_sip_password_is_hidden_in_reprs_but_sent_on_the_wire() -> None:
    params = PhoneNumberImport(
        phone_number="+12025550103",
        termination_uri="sip:trunk.example.com",
        auth_username="user",
        auth_password=SecretStr("hunter2-secret"),
    )
    assert "hunter2-secret" not in repr(params)
    assert "hunter2-secret" not in params.model_dump_json()
    assert params.to_wire()["authPassword"] == "hunter2-secret"
    assert params.to_wire()["phoneNumber"] == "+12025550103"


def test_an_option_read_from_telli_is_sent_back_with_only_its_documented_fields() -> None:
    option = PropertyOption.model_validate({"value": "gold", "label": "Gold", "description": None, "color": "#fc0"})
    assert option.to_wire() == {"value": "gold", "label": "Gold"}


def test_a_call_with_null_lists_and_objects_reads_them_as_empty() -> None:
    nulls = dict.fromkeys(("transcriptObject", "call_analysis", "call_outcome", "collected_data"))
    call = Call.model_validate({**CALL_EXAMPLE, **nulls})
    assert (call.transcript_object, call.call_analysis, call.call_outcome, call.collected_data) == ([], {}, {}, {})
