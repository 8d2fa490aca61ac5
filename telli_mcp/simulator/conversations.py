"""Deterministic call content: outcome per attempt, duration, transcript, analysis and outcomes.

Everything is a pure function of (contact, agent, attempt, outcome, time), so two runs give the same calls.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from .records import (
    Agent,
    AnalysisField,
    Call,
    CallStatus,
    CollectedValue,
    Contact,
    ScriptedOutcome,
    TranscriptLine,
)

__all__ = ["AttemptTiming", "compose_call", "default_outcome", "timing_for"]

_STATUS: dict[ScriptedOutcome, CallStatus] = {
    "COMPLETED": CallStatus.COMPLETED,
    "CALLBACK": CallStatus.COMPLETED,
    "APPOINTMENT": CallStatus.COMPLETED,
    "OPT_OUT": CallStatus.COMPLETED,
    "ANSWERED": CallStatus.ANSWERED,
    "NOT_REACHED": CallStatus.NOT_REACHED,
    "VOICEMAIL": CallStatus.VOICEMAIL,
    "ERROR": CallStatus.ERROR,
}
_ENDED_REASON: dict[CallStatus, str] = {
    CallStatus.COMPLETED: "agent-ended-call",
    CallStatus.ANSWERED: "customer-ended-call",
    CallStatus.NOT_REACHED: "contact-did-not-answer",
    CallStatus.VOICEMAIL: "voicemail-reached",
    CallStatus.ERROR: "error",
}
_CONNECTED = (CallStatus.COMPLETED, CallStatus.ANSWERED)


def _digest(*parts: object) -> int:
    return int(hashlib.sha256(":".join(str(part) for part in parts).encode()).hexdigest(), 16)


def call_status_of(outcome: ScriptedOutcome) -> CallStatus:
    return _STATUS[outcome]


def default_outcome(phone_number: str, attempt: int) -> ScriptedOutcome:
    """[I] The outcome of an attempt, from sha256(phone) mod 10.

    0: appointment on attempt 1; 1–4: reached on attempt 1; 5–6: not reached, then reached on attempt 2;
    7: voicemail every time; 8: never reached; 9: reached, asks for a callback.
    """
    bucket = _digest(phone_number) % 10
    if bucket == 0:
        return "APPOINTMENT"
    if bucket <= 4:
        return "COMPLETED"
    if bucket <= 6:
        return "NOT_REACHED" if attempt == 1 else "COMPLETED"
    if bucket == 7:
        return "VOICEMAIL"
    if bucket == 8:
        return "NOT_REACHED"
    return "CALLBACK"


@dataclass(frozen=True)
class AttemptTiming:
    """Offsets from the trigger: the line connects (started) and hangs up (ended); 1–4 minutes in total."""

    started_after: timedelta
    ended_after: timedelta


def timing_for(contact_id: str, attempt: int, outcome: ScriptedOutcome) -> AttemptTiming:
    digest = _digest(contact_id, attempt)
    setup = timedelta(seconds=3 + digest % 10)
    if call_status_of(outcome) in _CONNECTED:
        total = timedelta(seconds=90 + (digest >> 8) % 151)  # 90–240 s
    else:
        total = timedelta(seconds=60 + (digest >> 8) % 31)  # ringing out: 60–90 s
    return AttemptTiming(setup, total)


def compose_call(
    *,
    call_id: str,
    attempt: int,
    contact: Contact,
    agent: Agent,
    loop_id: str | None,
    outcome: ScriptedOutcome,
    triggered_at: datetime,
    from_number: str,
    extra_user_line: str | None = None,
) -> Call:
    """The finished Call for one attempt. `extra_user_line` lets the demo seed plant a specific remark."""
    status = call_status_of(outcome)
    timing = timing_for(contact.id, attempt, outcome)
    ended_at = triggered_at + timing.ended_after
    tz = ZoneInfo(contact.timezone)
    slot = _next_business_day(ended_at, tz, days=2, at=time(15, 30)) if outcome == "APPOINTMENT" else None
    callback_at = _next_business_day(ended_at, tz, days=1, at=time(15)) if outcome == "CALLBACK" else None
    interested = outcome in ("APPOINTMENT", "CALLBACK") or (
        outcome != "OPT_OUT" and _digest(contact.id, "interest") % 3 != 0
    )
    lines = _transcript(contact.first_name, agent, outcome, interested, extra_user_line)
    connected = status in _CONNECTED
    return Call(
        call_id=call_id,
        attempt=attempt,
        from_number=from_number,
        to_number=contact.phone_number,
        contact_id=contact.id,
        external_contact_id=contact.external_id,
        agent_id=agent.id,
        loop_id=loop_id,
        triggered_at=triggered_at,
        started_at=triggered_at + timing.started_after,
        ended_at=ended_at,
        call_status=status,
        transcript=lines,
        call_analysis=_analysis(contact.first_name, outcome, interested, slot, callback_at),
        call_outcome=_outcomes(outcome, connected),
        collected_data=(
            {"email": CollectedValue("confirmed", contact.email)} if outcome == "APPOINTMENT" and contact.email else {}
        ),
        ended_reason=_ENDED_REASON[status],
        booked_slot_for=slot,
        recording_url=f"https://recordings.telli-sim.invalid/{call_id}.mp3" if connected else None,
    )


def _outcomes(outcome: ScriptedOutcome, connected: bool) -> dict[str, bool | None]:
    """The agent's custom outcomes. `do_not_call` only on an OPT_OUT call (an agent with that outcome defined), so
    that every other call's outcomes stay the two every scripted agent has."""
    outcomes: dict[str, bool | None] = {
        "callback_requested": outcome == "CALLBACK" if connected else None,
        "appointment_booked": outcome == "APPOINTMENT" if connected else None,
    }
    if outcome == "OPT_OUT":
        outcomes["do_not_call"] = True
    return outcomes


def _next_business_day(moment: datetime, tz: ZoneInfo, *, days: int, at: time) -> datetime:
    day = moment.astimezone(tz).date() + timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, at, tzinfo=tz)


def _analysis(
    first_name: str,
    outcome: ScriptedOutcome,
    interested: bool,
    slot: datetime | None,
    callback_at: datetime | None,
) -> dict[str, AnalysisField]:
    summaries: dict[ScriptedOutcome, str] = {
        "COMPLETED": f"The agent introduced the offer to {first_name}, who "
        + ("showed interest and asked for more information." if interested else "was not interested."),
        "APPOINTMENT": f"{first_name} was interested and booked a demo appointment.",
        "CALLBACK": f"{first_name} was busy and asked to be called back.",
        "OPT_OUT": f"{first_name} was not interested and asked not to be called again.",
        "ANSWERED": f"{first_name} picked up but could not talk; another attempt will be made.",
        "NOT_REACHED": f"{first_name} did not answer the call.",
        "VOICEMAIL": f"The call reached {first_name}'s voicemail; no message was left.",
        "ERROR": "The call failed for a technical reason.",
    }
    analysis = {"summary": AnalysisField(True, summaries[outcome])}
    if call_status_of(outcome) in _CONNECTED:
        detail = "Interested in the product." if interested else "Not interested at the moment."
        analysis["interest"] = AnalysisField(interested, detail)
    if slot is not None:
        analysis["appointment"] = AnalysisField(True, _utc_iso(slot))
    if callback_at is not None:
        analysis["callback"] = AnalysisField(True, _utc_iso(callback_at))
    if outcome == "VOICEMAIL":
        analysis["voicemail"] = AnalysisField(True, "Voicemail detected.")
    return analysis


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z")


_PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "greet": "Hello {name}, this is {agent} from the telli demo team. Is now a good time?",
        "ok": "Yes, sure. What is it about?",
        "pitch": "We help teams reach their customers faster. Would that be interesting for you?",
        "yes": "That sounds interesting, tell me more.",
        "no": "Thanks, but we are not looking for anything like that right now.",
        "slot": "Great! Would the day after tomorrow at 15:30 work for a short demo?",
        "slot_ok": "Yes, that works for me.",
        "booked": "Perfect, it is booked. Talk soon, {name}!",
        "busy": "I'm in a meeting right now. Could you call me back tomorrow afternoon?",
        "callback": "Of course, I'll call you back tomorrow afternoon. Goodbye, {name}!",
        "opt_out": "Please take me off your list and don't call me again.",
        "opt_out_ok": "Understood, {name}, we will not call you again. Goodbye!",
        "bye": "Thank you for your time, {name}. Goodbye!",
        "driving": "Sorry, I'm driving right now.",
        "later": "No problem, {name}, we'll try again later.",
        "voicemail": "Hi, you've reached {name}. Please leave a message after the tone.",
    },
    "de": {
        "greet": "Hallo {name}, hier ist {agent} vom telli Demo-Team. Passt es gerade?",
        "ok": "Ja, klar. Worum geht es?",
        "pitch": "Wir helfen Teams, ihre Kunden schneller zu erreichen. Wäre das interessant für Sie?",
        "yes": "Das klingt interessant, erzählen Sie mehr.",
        "no": "Danke, aber im Moment suchen wir so etwas nicht.",
        "slot": "Prima! Passt Ihnen übermorgen um 15:30 Uhr für eine kurze Demo?",
        "slot_ok": "Ja, das passt.",
        "booked": "Perfekt, der Termin steht. Bis bald, {name}!",
        "busy": "Ich bin gerade in einem Meeting. Können Sie mich morgen Nachmittag zurückrufen?",
        "callback": "Natürlich, ich rufe Sie morgen Nachmittag zurück. Auf Wiederhören, {name}!",
        "opt_out": "Bitte streichen Sie mich von Ihrer Liste und rufen Sie mich nicht mehr an.",
        "opt_out_ok": "Verstanden, {name}, wir rufen Sie nicht mehr an. Auf Wiederhören!",
        "bye": "Vielen Dank für Ihre Zeit, {name}. Auf Wiederhören!",
        "driving": "Entschuldigung, ich sitze gerade im Auto.",
        "later": "Kein Problem, {name}, wir versuchen es später noch einmal.",
        "voicemail": "Hallo, Sie sind verbunden mit der Mailbox von {name}. Bitte sprechen Sie nach dem Ton.",
    },
}

_SCRIPTS: dict[ScriptedOutcome, tuple[tuple[str, str], ...]] = {
    "COMPLETED": (
        ("agent", "greet"),
        ("user", "ok"),
        ("agent", "pitch"),
        ("user", "answer"),
        ("agent", "bye"),
    ),
    "APPOINTMENT": (
        ("agent", "greet"),
        ("user", "ok"),
        ("agent", "pitch"),
        ("user", "yes"),
        ("agent", "slot"),
        ("user", "slot_ok"),
        ("agent", "booked"),
    ),
    "CALLBACK": (("agent", "greet"), ("user", "busy"), ("agent", "callback")),
    "OPT_OUT": (("agent", "greet"), ("user", "ok"), ("agent", "pitch"), ("user", "opt_out"), ("agent", "opt_out_ok")),
    "ANSWERED": (("agent", "greet"), ("user", "driving"), ("agent", "later")),
    "VOICEMAIL": (("user", "voicemail"),),
    "NOT_REACHED": (),
    "ERROR": (),
}


def _transcript(
    first_name: str, agent: Agent, outcome: ScriptedOutcome, interested: bool, extra_user_line: str | None
) -> tuple[TranscriptLine, ...]:
    phrases = _PHRASES["de" if agent.language.lower().startswith("de") else "en"]
    lines: list[TranscriptLine] = []
    for role, phrase in _SCRIPTS[outcome]:
        if phrase == "answer":
            phrase = "yes" if interested else "no"
        text = phrases[phrase].format(name=first_name, agent=agent.title)
        lines.append(TranscriptLine("agent" if role == "agent" else "user", text))
    if extra_user_line is not None and lines:
        lines.insert(len(lines) - 1, TranscriptLine("user", extra_user_line))
    return tuple(lines)
