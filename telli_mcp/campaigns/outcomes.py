"""Read what a contact's calls say: an appointment, a callback request, a summary.

telli reports system findings in `call_analysis` (`{name: {value, details}}`, e.g. `appointment`) and the
agent's custom outcomes in `call_outcome` (`{name: {value, ...}}`, names chosen per agent). A finding counts
when its name contains "appointment" or "callback"/"call_back" and its value is truthy; a `booked_slot_for`
time is an appointment too. The newest call that says so wins.

Opt-out ("do not call me again") is read the same way from an entry whose name contains one of `OPT_OUT_KEYS`
or is the account's own opt-out outcome (`opt_out_key`, the setting TELLI_MCP_OPT_OUT_KEY, compared by
`outcome_key`), or, failing that, from the call's summary containing one of `OPT_OUT_PHRASES` (see there for why
that list is short). Every surface that reports opt-outs (get_call, wait_for_call_result, call_stats, campaign
status) asks `analyse_calls` with the setting, so they all agree. An entry whose value is false or empty never
opts out.

Once any call says so, the contact has opted out: a later call that does not repeat it (or whose agent
outcome reads false, which means "this call produced no opt-out") does not withdraw it. Withdrawing consent is
something the person tells a human, and the cost of the two mistakes is lopsided: a missed opt-out means calling
someone who said no, a kept one only means a suggestion the user can decline. An opt-out does not move `at`,
which stays the time of the newest appointment or callback the campaign status reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from telli_mcp.client import Call

__all__ = [
    "OPT_OUT_KEYS",
    "OPT_OUT_PHRASES",
    "CallFindings",
    "analyse_calls",
    "of_loop",
    "outcome_key",
    "summary_opts_out",
]

MAX_DETAIL = 200
_FALSY_TEXT = frozenset({"", "false", "no", "0", "none", "null", "nein"})

OPT_OUT_KEYS = ("opt_out", "optout", "opt-out", "do_not_call", "donotcall", "dnc", "unsubscribe")
"""An analysis or outcome entry whose (lower-cased) name contains one of these and whose value is truthy is an
opt-out: the explicit signal, and the one to define on an agent (Custom call outcomes) to catch every opt-out."""
OPT_OUT_PHRASES = (
    # English: first person as the caller said it, and third person as telli's summaries report it.
    "do not call",
    "don't call",
    "stop calling",
    "never call",
    "not to be called",
    "not be called again",
    "remove me from your list",
    "take me off your list",
    "removed from the call list",
    "removed from your list",
    "opted out",
    # German.
    "nicht mehr anrufen",
    "nicht mehr angerufen",
    "rufen sie mich nicht mehr an",
    "keine anrufe mehr",
    "keine weiteren anrufe",
    "nicht mehr kontaktieren",
    "nicht mehr kontaktiert",
)
"""Phrases in a call's summary that mean the person asked not to be called again; whole phrases only (a phrase
must not start or end inside a word), case, spacing, hyphens and apostrophe style ignored.

Deliberately short and literal, never single words like "call" or "stop": a summary is free text about a
conversation that is mostly about calling ("asked to be called back", "do you want me to call"), and a loose
match would put a do-not-call suggestion under ordinary calls until the user stops reading it. A false positive
only costs a suggestion the user declines; a missed opt-out is what the explicit outcome entry (`OPT_OUT_KEYS`)
is for."""
_SPELLING = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "-": " ", "_": " "})
"""Typographic apostrophes as ', and "do-not-call" / "do_not_call" as words."""
_OPT_OUT_PATTERN = re.compile(
    "|".join(rf"(?<!\w){re.escape(phrase)}(?!\w)" for phrase in OPT_OUT_PHRASES), flags=re.IGNORECASE
)
_KEY_PARTS = re.compile(r"[\s_-]+")


class CallFindings(BaseModel):
    """What the calls of one contact revealed."""

    appointment: bool = False
    appointment_detail: str | None = None
    callback: bool = False
    callback_detail: str | None = None
    opt_out: bool = False
    opt_out_detail: str | None = None
    """The entry that said so (`name` or `name: reason`, telli's text); None when only the summary said so."""
    summary: str | None = None
    at: datetime | None = None
    """End of the newest call with a finding (or of the newest call)."""


def analyse_calls(calls: Sequence[Call], *, opt_out_key: str | None) -> CallFindings:
    """Findings from calls ordered newest first (as list-calls returns them). `opt_out_key`: the account's own
    opt-out outcome (`Settings.opt_out_key`), read like the built-in names; None: only those. Required, so that no
    caller forgets the setting."""
    findings = CallFindings(at=calls[0].ended_at if calls else None)
    own_key = (outcome_key(opt_out_key) or None) if opt_out_key else None
    for call in reversed(calls):  # oldest first, so newer calls overwrite
        _apply(findings, call, own_key)
    return findings


def outcome_key(name: str) -> str:
    """An outcome name as compared with the opt-out setting: lower case, runs of spaces, hyphens and underscores
    as one "_" ("Wants no-more calls" is `wants_no_more_calls`)."""
    return "_".join(_KEY_PARTS.split(name.strip().lower())).strip("_")


def of_loop(calls: Sequence[Call], loop_id: str | None) -> list[Call]:
    """The calls of one dialer loop (a lead's scheduling), so that an earlier campaign's calls to the same person
    do not count as this one's outcomes. A call that does not say its loop is kept: it cannot be told apart."""
    return [call for call in calls if loop_id is None or call.loop_id is None or call.loop_id == loop_id]


def _apply(findings: CallFindings, call: Call, own_key: str | None) -> None:
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
    summary_text = summary.details if summary is not None and isinstance(summary.details, str) else None
    if summary_text is not None:
        findings.summary = _short(summary_text)
    _apply_opt_out(findings, entries, summary_text, own_key)


def _apply_opt_out(
    findings: CallFindings, entries: list[tuple[str, Any, Any]], summary: str | None, own_key: str | None
) -> None:
    """An explicit entry first (it names why); the summary only when no entry says so. Never resets (see above)."""
    for name, value, details in entries:
        if _opt_out_name(name, own_key) and _truthy(value):
            reason = _detail(value, details)
            findings.opt_out, findings.opt_out_detail = True, _short(f"{name}: {reason}" if reason else name)
            return
    if summary is not None and summary_opts_out(summary):
        findings.opt_out, findings.opt_out_detail = True, None


def _opt_out_name(name: str, own_key: str | None) -> bool:
    """A built-in opt-out name anywhere in `name` (lower case), or exactly the account's own key."""
    return any(key in name for key in OPT_OUT_KEYS) or (own_key is not None and outcome_key(name) == own_key)


def summary_opts_out(summary: str) -> bool:
    """Whether a call summary contains one of `OPT_OUT_PHRASES` as a whole phrase."""
    text = " ".join(summary.translate(_SPELLING).split())
    return _OPT_OUT_PATTERN.search(text) is not None


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
            return _short(_detail(value, details))
    return None


def _detail(value: Any, details: Any) -> str:
    """An entry's explanation: its details (or reason), else a text value, else ""."""
    return str(details if details not in (None, "") else (value if isinstance(value, str) else ""))


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in _FALSY_TEXT
    return bool(value)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"
