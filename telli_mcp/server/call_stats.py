"""How a set of calls went, counted: pure functions over `telli_mcp.client.Call`, one rule each.

* Reached (`is_reached`): the call had a conversation, i.e. telli's status is COMPLETED (a conversation took place)
  or ANSWERED (someone picked up and spoke; the dialer tries again). NOT_REACHED, VOICEMAIL and ERROR had none. The
  reached rate is reached calls / all calls.
* Talk time (`talk_seconds`): `ended_at - started_at` of a reached call (a call missing either time is left out; an
  unreached call's "duration" is ringing, not talk). The median is the usual one; the 90th percentile is by nearest
  rank, a talk time some call really had (`percentile`).
* Day (`by_day`): the calendar day `triggered_at` falls on in the account's time zone.
* Appointment, callback and opt-out (`findings`): what `telli_mcp.campaigns.outcomes` reads from a call, its one
  rule, asked of each call; counted once per contact (a call without a contact counts as its own, as
  `call:<call_id>`).
* Custom outcomes (`tally_outcomes`): each `call_outcome` entry's value, booleans as true/false, text and numbers
  (select values) by value, a list by each of its items; a null or an object is not counted.

Everything here is plain data out; what reaches the model (cleaned, fenced, capped) is the tool's business
(`server/tools/analytics.py`).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from telli_mcp.client import Call

__all__ = [
    "REACHED_STATUSES",
    "Findings",
    "OutcomeTally",
    "by_agent",
    "by_day",
    "by_status",
    "findings",
    "is_reached",
    "median",
    "percentile",
    "talk_seconds",
    "tally_outcomes",
]

REACHED_STATUSES = frozenset({"COMPLETED", "ANSWERED"})
"""telli's call statuses of a call with a conversation (see the module docstring)."""
UNKNOWN = "unknown"
"""The key a call is counted under when telli did not say its status or agent."""


def _status(call: Call) -> str:
    return UNKNOWN if call.call_status is None else str(call.call_status)


def is_reached(call: Call) -> bool:
    return _status(call) in REACHED_STATUSES


def by_status(calls: Iterable[Call]) -> dict[str, int]:
    """Calls per telli status, the most frequent first."""
    return dict(Counter(_status(call) for call in calls).most_common())


def by_agent(calls: Iterable[Call]) -> dict[str, int]:
    """Calls per agent id, the busiest first."""
    return dict(Counter(call.agent_id or UNKNOWN for call in calls).most_common())


def by_day(calls: Iterable[Call], timezone: str) -> dict[str, int]:
    """Calls per day (YYYY-MM-DD on `timezone`'s clock), in date order; days without calls are not listed."""
    zone = ZoneInfo(timezone)
    days = Counter(call.triggered_at.astimezone(zone).date().isoformat() for call in calls if call.triggered_at)
    return dict(sorted(days.items()))


def talk_seconds(call: Call) -> float | None:
    if not is_reached(call) or call.started_at is None or call.ended_at is None:
        return None
    return max(0.0, (call.ended_at - call.started_at).total_seconds())


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least `fraction` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


@dataclass
class Findings:
    """Contacts whose calls booked an appointment, asked for a callback or asked not to be called again, each once,
    in the order of the calls."""

    appointments: list[str] = field(default_factory=list)
    callbacks: list[str] = field(default_factory=list)
    opted_out: list[str] = field(default_factory=list)


def findings(calls: Iterable[Call], *, opt_out_key: str | None) -> Findings:
    """`campaigns.outcomes.analyse_calls` asked of each call on its own: what that call said, not what the contact's
    newest call says (a contact who asked for a callback on Monday and booked on Tuesday did both). `opt_out_key`:
    the account's own opt-out outcome (TELLI_MCP_OPT_OUT_KEY)."""
    from telli_mcp.campaigns.outcomes import analyse_calls

    appointments: dict[str, None] = {}
    callbacks: dict[str, None] = {}
    opted_out: dict[str, None] = {}
    for call in calls:
        found = analyse_calls([call], opt_out_key=opt_out_key)
        who = call.contact_id or f"call:{call.call_id}"
        if found.appointment:
            appointments.setdefault(who)
        if found.callback:
            callbacks.setdefault(who)
        if found.opt_out:
            opted_out.setdefault(who)
    return Findings(list(appointments), list(callbacks), list(opted_out))


@dataclass
class OutcomeTally:
    """One custom outcome over the calls that set it: booleans counted true/false, other values counted by value."""

    name: str
    true: int = 0
    false: int = 0
    values: Counter[str] = field(default_factory=Counter)


def tally_outcomes(calls: Iterable[Call]) -> list[OutcomeTally]:
    """Every custom outcome the calls set, by name."""
    tallies: dict[str, OutcomeTally] = {}
    for call in calls:
        for name, raw in call.call_outcome.items():
            value = raw.get("value") if isinstance(raw, dict) else raw
            _count(tallies.setdefault(name, OutcomeTally(name)), value)
    return [tallies[name] for name in sorted(tallies)]


def _count(tally: OutcomeTally, value: Any) -> None:
    if isinstance(value, bool):
        if value:
            tally.true += 1
        else:
            tally.false += 1
    elif isinstance(value, str | int | float):
        tally.values[str(value)] += 1
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, str | int | float) and not isinstance(item, bool):
                tally.values[str(item)] += 1
