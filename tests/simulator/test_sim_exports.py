"""The simulator's public surface, which the client, server and campaign tests code against."""

from __future__ import annotations

import telli_mcp.simulator as simulator


def test_the_public_names_are_pinned() -> None:
    assert set(simulator.__all__) == {
        "DEMO_API_KEY", "TEST_API_KEY", "Account", "Agent", "BodyEdit", "Call", "CallStatus", "Contact",
        "ContactStatus", "DataType", "DialerLoop", "Fault", "FaultKind", "LoggedRequest", "PhoneNumber",
        "PropertyDefinition", "PropertyOption", "ScriptedOutcome", "SimClock", "TelliSimulator",
    }  # fmt: skip
    assert all(hasattr(simulator, name) for name in simulator.__all__)


def test_the_fixed_keys_have_their_documented_values() -> None:
    assert simulator.DEMO_API_KEY == "telli-sandbox-demo-key"
    assert simulator.TEST_API_KEY == "sim-test-key"


def test_the_default_clock_starts_on_a_monday_morning_in_utc() -> None:
    now = simulator.SimClock().now()
    assert now.isoformat() == "2026-03-02T08:00:00+00:00" and now.weekday() == 0
