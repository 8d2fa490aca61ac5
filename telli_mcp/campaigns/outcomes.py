"""Read what a contact's calls say: an appointment, a callback request, a summary.

telli reports system findings in `call_analysis` (`{name: {value, details}}`, e.g. `appointment`) and the
agent's custom outcomes in `call_outcome` (`{name: {value, ...}}`, names chosen per agent). A finding counts
when its name contains "appointment" or "callback"/"call_back" and its value is truthy; a `booked_slot_for`
time is an appointment too. The newest call that says so wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from telli_mcp.client import Call

__all__ = ["CallFindings", "analyse_calls", "of_loop"]

MAX_DETAIL = 200
_FALSY_TEXT = frozenset({"", "false", "no", "0", "none", "null", "nein"})


class CallFindings(BaseModel):
    """What the calls of one contact revealed."""

    appointment: bool = False
    appointment_detail: str | None = None
    callback: bool = False
    callback_detail: str | None = None
    summary: str | None = None
    at: datetime | None = None
    """End of the newest call with a finding (or of the newest call)."""


def analyse_calls(calls: Sequence[Call]) -> CallFindings:
    """Findings from calls ordered newest first (as list-calls returns them)."""
    findings = CallFindings(at=calls[0].ended_at if calls else None)
    for call in reversed(calls):  # oldest first, so newer calls overwrite
        _apply(findings, call)
    return findings


def of_loop(calls: Sequence[Call], loop_id: str | None) -> list[Call]:
    """The calls of one dialer loop (a lead's scheduling), so that an earlier campaign's calls to the same person
    do not count as this one's outcomes. A call that does not say its loop is kept: it cannot be told apart."""
    return [call for call in calls if loop_id is None or call.loop_id is None or call.loop_id == loop_id]


def _apply(findings: CallFindings, call: Call) -> None:
    entries = list(_entries(call))
    appointment = _first(entries, ("appointment",))
    if call.booked_slot_for:
        appointment = f"booked for {call.booked_slot_for}"
    if appointment is not None:
        findings.appointment, findings.appointment_detail, findings.at = True, appointment or None, call.ended_at
    callback = _first(entries, ("callback", "call_back"))
    if callback is not None:
        findings.callback, findings.callback_detail, findings.at = True, callback or None, call.ended_at
    summary = call.call_analysis.get("summary")
    if summary is not None and isinstance(summary.details, str):
        findings.summary = _short(summary.details)


def _entries(call: Call) -> Iterable[tuple[str, Any, Any]]:
    for name, item in call.call_analysis.items():
        yield name.lower(), item.value, item.details
    for name, outcome in call.call_outcome.items():
        if isinstance(outcome, dict):
            yield name.lower(), outcome.get("value"), outcome.get("reason") or outcome.get("details")
        else:
            yield name.lower(), outcome, None


def _first(entries: list[tuple[str, Any, Any]], words: tuple[str, ...]) -> str | None:
    """The detail ("" when none) of the first truthy entry whose name contains one of `words`."""
    for name, value, details in entries:
        if any(word in name for word in words) and _truthy(value):
            detail = details if details not in (None, "") else (value if isinstance(value, str) else "")
            return _short(str(detail))
    return None


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in _FALSY_TEXT
    return bool(value)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"
