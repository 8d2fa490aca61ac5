"""The shared validated types and normalize_e164."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from telli_mcp.client import AgentId, ContactId, E164Phone, IanaTimezone, PropertyKey, normalize_e164

E164 = TypeAdapter(E164Phone)
CONTACT_ID = TypeAdapter(ContactId)


def test_a_strict_e164_number_is_accepted_unchanged() -> None:
    assert E164.validate_python("+493012345678") == "+493012345678"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        pytest.param("030 12345678", "E.164", id="national-format"),
        pytest.param("+49 30 12345678", "without spaces", id="spaces"),
        pytest.param("+4930", "too short", id="too-short"),
        pytest.param("+abc", "is not a phone number", id="letters"),
        pytest.param("", "empty", id="empty"),
    ],
)
def test_an_invalid_phone_number_is_rejected_with_a_message_naming_the_problem(raw: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        E164.validate_python(raw)


def test_normalize_e164_turns_a_national_number_into_e164_given_a_region() -> None:
    assert normalize_e164("030 12345678", "DE") == "+493012345678"
    assert normalize_e164("(202) 555-0123", "US") == "+12025550123"


def test_normalize_e164_without_a_region_requires_a_leading_plus() -> None:
    with pytest.raises(ValueError, match="starting with \\+"):
        normalize_e164("030 12345678")


def test_contact_ids_are_returned_in_canonical_lowercase_form() -> None:
    assert CONTACT_ID.validate_python("3C90C3CC-0D44-4B50-8888-8DD25736052A") == (
        "3c90c3cc-0d44-4b50-8888-8dd25736052a"
    )


def test_a_contact_id_that_is_not_a_uuid_is_rejected() -> None:
    with pytest.raises(ValidationError, match="not a UUID"):
        CONTACT_ID.validate_python("crm-123")


def test_an_agent_id_is_a_uuid_in_canonical_form() -> None:
    assert TypeAdapter(AgentId).validate_python("D8931604-92AD-45CF-9071-D9CD2AFBAD0C") == (
        "d8931604-92ad-45cf-9071-d9cd2afbad0c"
    )


@pytest.mark.parametrize("value", ["", "agent_1", "agent 1", "a/b", "x" * 129])
def test_agent_ids_that_are_not_uuids_are_rejected(value: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(AgentId).validate_python(value)


@pytest.mark.parametrize("value", ["-plan", "plan key", "", "k" * 65])
def test_property_keys_outside_the_documented_pattern_are_rejected(value: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(PropertyKey).validate_python(value)


def test_unknown_time_zones_are_rejected_and_iana_names_accepted() -> None:
    assert TypeAdapter(IanaTimezone).validate_python("Europe/Berlin") == "Europe/Berlin"
    with pytest.raises(ValidationError, match="IANA"):
        TypeAdapter(IanaTimezone).validate_python("Mars/Olympus")
