"""A faithful, deterministic simulator of telli's public REST API (v1 and v2): tests, demos, benchmarks.

It is an independent oracle: responses are built by hand from the documented shapes, never from the client's
models. Use it in-process through `TelliSimulator.transport()`, or serve it with `serve.run_simulator`.

Names load on first use (`telli_mcp.lazy`).
"""

from typing import TYPE_CHECKING

from telli_mcp.lazy import lazy_exports

if TYPE_CHECKING:
    from telli_mcp.simulator.app import TelliSimulator
    from telli_mcp.simulator.clock import SimClock
    from telli_mcp.simulator.faults import BodyEdit, Fault, FaultKind
    from telli_mcp.simulator.keys import DEMO_API_KEY, TEST_API_KEY
    from telli_mcp.simulator.records import (
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
    from telli_mcp.simulator.request_log import LoggedRequest
    from telli_mcp.simulator.store import Account

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

__getattr__ = lazy_exports(__name__, __file__)
