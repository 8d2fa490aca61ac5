"""Reading call outcomes and dialer status from telli's objects."""

from __future__ import annotations

from typing import Any

import pytest

from telli_mcp.campaigns.contact_state import dialer_status, in_dialer, was_scheduled
from telli_mcp.campaigns.outcomes import analyse_calls
from telli_mcp.client import Call, ContactStatus, ContactV1


def call(call_id: str, ended_at: int, **fields: Any) -> Call:
    return Call.model_validate({"call_id": call_id, "ended_at": ended_at, **fields})


def test_a_custom_callback_outcome_counts_and_a_false_one_does_not() -> None:
    asked = call("c2", 2_000, call_outcome={"wants_callback": {"value": True, "reason": "Call me on Friday"}})
    declined = call("c1", 1_000, call_outcome={"callback_requested": {"value": "false"}})

    assert analyse_calls([declined]).callback is False
    findings = analyse_calls([asked, declined])
    assert (findings.callback, findings.callback_detail) == (True, "Call me on Friday")
    assert findings.at is not None and findings.at.timestamp() == 2


def test_a_booked_slot_is_an_appointment_and_the_summary_is_kept() -> None:
    findings = analyse_calls(
        [
            call(
                "c1",
                1_000,
                booked_slot_for="2026-03-04T14:30:00Z",
                call_analysis={"summary": {"value": True, "details": "Booked a demo."}},
            )
        ]
    )

    assert (findings.appointment, findings.appointment_detail) == (True, "booked for 2026-03-04T14:30:00Z")
    assert findings.summary == "Booked a demo."
    assert findings.callback is False


def test_no_calls_mean_no_findings() -> None:
    assert analyse_calls([]).model_dump() == {
        "appointment": False,
        "appointment_detail": None,
        "callback": False,
        "callback_detail": None,
        "summary": None,
        "at": None,
    }


@pytest.mark.parametrize(
    ("fields", "status", "scheduled", "active"),
    [
        ({}, ContactStatus.NEW, False, False),
        ({"next_call_at": "2026-03-02T09:00:00Z"}, ContactStatus.PENDING, True, True),
        ({"in_call_since": "2026-03-02T09:00:00Z", "call_attempts": 1}, ContactStatus.PENDING, True, True),
        ({"reached_at": "2026-03-02T09:03:00Z", "call_attempts": 1}, ContactStatus.REACHED, True, False),
        ({"call_attempts": 3}, ContactStatus.CLOSED, True, False),
        ({"status": "pending"}, ContactStatus.PENDING, True, True),
    ],
)
def test_the_dialer_status_is_derived_when_telli_sends_none(
    fields: dict[str, Any], status: ContactStatus, scheduled: bool, active: bool
) -> None:
    contact = ContactV1.model_validate({"contact_id": "3c90c3cc-0d44-4b50-8888-8dd25736052a", **fields})

    assert (dialer_status(contact), was_scheduled(contact), in_dialer(contact)) == (status, scheduled, active)


def test_the_public_surface_is_importable() -> None:
    import telli_mcp.campaigns as campaigns

    missing = [name for name in campaigns.__all__ if not hasattr(campaigns, name)]
    assert missing == []
