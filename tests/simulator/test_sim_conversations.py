"""Deterministic outcomes and call content."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from telli_mcp.simulator.conversations import compose_call, default_outcome
from telli_mcp.simulator.records import Agent, CallStatus, Contact

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def make_contact(phone: str = "+15550123") -> Contact:
    return Contact("c-1", "Lena", "Schmidt", phone, "Europe/Berlin", NOW, NOW, email="lena@example.com")


def test_default_outcomes_depend_only_on_the_phone_number_and_attempt() -> None:
    phones = [f"+1555010{n}" for n in range(10)] + [f"+49309018200{n}" for n in range(10)]
    first = [default_outcome(phone, 1) for phone in phones]
    assert first == [default_outcome(phone, 1) for phone in phones]
    assert len(Counter(first)) >= 3  # the buckets spread over outcomes


@pytest.mark.parametrize(
    ("outcome", "status", "keys"),
    [
        ("COMPLETED", CallStatus.COMPLETED, {"summary", "interest"}),
        ("APPOINTMENT", CallStatus.COMPLETED, {"summary", "interest", "appointment"}),
        ("CALLBACK", CallStatus.COMPLETED, {"summary", "interest", "callback"}),
        ("VOICEMAIL", CallStatus.VOICEMAIL, {"summary", "voicemail"}),
        ("NOT_REACHED", CallStatus.NOT_REACHED, {"summary"}),
    ],
)
def test_each_outcome_has_its_status_and_analysis(outcome: str, status: CallStatus, keys: set[str]) -> None:
    agent = Agent("a-1", "Sales Agent (DE)", "de", NOW)
    call = compose_call(
        call_id="x",
        attempt=1,
        contact=make_contact(),
        agent=agent,
        loop_id="l",
        outcome=outcome,  # type: ignore[arg-type]
        triggered_at=NOW,
        from_number="+12125550199",
    )
    assert call.call_status is status
    assert set(call.call_analysis) == keys
    assert call.call_outcome["appointment_booked"] in (outcome == "APPOINTMENT", None)
    if status is CallStatus.COMPLETED:
        assert "Lena" in call.transcript[0].content and "Sales Agent (DE)" in call.transcript[0].content
        assert call.recording_url is not None and call.call_length_min >= 1
    if outcome == "APPOINTMENT":
        assert call.booked_slot_for is not None and call.booked_slot_for.weekday() < 5
        assert call.collected_data["email"].value == "lena@example.com"


def test_german_agents_speak_german() -> None:
    agent = Agent("a-1", "Vertrieb", "de", NOW)
    call = compose_call(
        call_id="x",
        attempt=1,
        contact=make_contact(),
        agent=agent,
        loop_id=None,
        outcome="COMPLETED",
        triggered_at=NOW,
        from_number="+12125550199",
    )
    assert call.transcript[0].content.startswith("Hallo Lena")
