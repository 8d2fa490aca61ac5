"""A faithful, deterministic simulator of telli's public REST API (v1 and v2): tests, demos, benchmarks.

It is an independent oracle: responses are built by hand from the documented shapes, never from the client's
models. Use it in-process through `TelliSimulator.transport()`, or serve it with `serve.run_simulator`.
"""

from __future__ import annotations

from .app import DEMO_API_KEY, TEST_API_KEY, TelliSimulator
from .clock import SimClock
from .faults import BodyEdit, Fault, FaultKind
from .records import (
    Agent,
    Call,
    CallStatus,
    Contact,
    ContactStatus,
    DataType,
    DialerLoop,
    PhoneNumber,
    PropertyDefinition,
    PropertyOption,
    ScriptedOutcome,
)
from .request_log import LoggedRequest
from .store import Account

__all__ = [
    "DEMO_API_KEY",
    "TEST_API_KEY",
    "Account",
    "Agent",
    "BodyEdit",
    "Call",
    "CallStatus",
    "Contact",
    "ContactStatus",
    "DataType",
    "DialerLoop",
    "Fault",
    "FaultKind",
    "LoggedRequest",
    "PhoneNumber",
    "PropertyDefinition",
    "PropertyOption",
    "ScriptedOutcome",
    "SimClock",
    "TelliSimulator",
]
