"""Reading call outcomes and dialer status from telli's objects."""

from __future__ import annotations

from typing import Any

import pytest

from telli_mcp.campaigns.contact_state import dialer_status, in_dialer, was_scheduled
from telli_mcp.campaigns.outcomes import OPT_OUT_PHRASES, analyse_calls, summary_opts_out
from telli_mcp.client import Call, ContactStatus, ContactV1


def call(call_id: str, ended_at: int, **fields: Any) -> Call:
    return Call.model_validate({"call_id": call_id, "ended_at": ended_at, **fields})


def test_a_custom_callback_outcome_counts_and_a_false_one_does_not() -> None:
    asked = call("c2", 2_000, call_outcome={"wants_callback": {"value": True, "reason": "Call me on Friday"}})
    declined = call("c1", 1_000, call_outcome={"callback_requested": {"value": "false"}})

    assert analyse_calls([declined], opt_out_key=None).callback is False
    findings = analyse_calls([asked, declined], opt_out_key=None)
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
        ],
        opt_out_key=None,
    )

    assert (findings.appointment, findings.appointment_detail) == (True, "booked for 2026-03-04T14:30:00Z")
    assert findings.summary == "Booked a demo."
    assert findings.callback is False


def test_no_calls_mean_no_findings() -> None:
    assert analyse_calls([], opt_out_key=None).model_dump() == {
        "appointment": False,
        "appointment_detail": None,
        "callback": False,
        "callback_detail": None,
        "opt_out": False,
        "opt_out_detail": None,
        "summary": None,
        "at": None,
    }


def summarised(call_id: str, ended_at: int, summary: str, **fields: Any) -> Call:
    return call(call_id, ended_at, call_analysis={"summary": {"value": True, "details": summary}}, **fields)


# --- opt-out ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "detail"),
    [
        ({"do_not_call": {"value": True, "reason": "Asked twice"}}, "do_not_call: Asked twice"),
        ({"Opt_Out": {"value": "yes"}}, "opt_out: yes"),
        ({"contact_optout": True}, "contact_optout"),
        ({"opt-out-requested": {"value": 1}}, "opt-out-requested"),
        ({"donotcall": {"value": True}}, "donotcall"),
        ({"dnc_flag": {"value": True, "details": "Wants no calls"}}, "dnc_flag: Wants no calls"),
        ({"unsubscribe": {"value": "true"}}, "unsubscribe: true"),
    ],
)
def test_an_opt_out_outcome_of_any_spelling_counts_and_names_itself(outcome: dict[str, Any], detail: str) -> None:
    findings = analyse_calls(
        [summarised("c1", 1_000, "The agent explained the offer.", call_outcome=outcome)], opt_out_key=None
    )

    assert (findings.opt_out, findings.opt_out_detail) == (True, detail)
    assert (findings.callback, findings.appointment) == (False, False)


@pytest.mark.parametrize("value", [False, "false", "no", "nein", "0", None, ""])
def test_a_false_opt_out_outcome_is_none(value: Any) -> None:
    findings = analyse_calls([call("c1", 1_000, call_outcome={"do_not_call": {"value": value}})], opt_out_key=None)

    assert (findings.opt_out, findings.opt_out_detail) == (False, None)


def test_an_opt_out_in_the_system_analysis_counts_too() -> None:
    findings = analyse_calls(
        [call("c1", 1_000, call_analysis={"opt_out": {"value": True, "details": "Said so."}})], opt_out_key=None
    )

    assert (findings.opt_out, findings.opt_out_detail) == (True, "opt_out: Said so.")


@pytest.mark.parametrize(
    "summary",
    [
        "The contact said: do not call me again.",
        "Max asked us to STOP\n   CALLING him.",
        "She said don\u2019t call this number.",
        "He wants to be put on the do-not-call list.",
        "The person asked not to be called again.",
        "Asked to be removed from your list immediately.",
        "Said: remove me from your list.",
        "The contact opted out of further calls.",
        "Never call me again, he said.",
        "Der Kontakt möchte nicht mehr angerufen werden.",
        "Bitte NICHT MEHR ANRUFEN.",
        "Er sagte: Rufen Sie mich nicht mehr an.",
        "Keine Anrufe mehr, bitte.",
        "Sie möchte keine weiteren Anrufe erhalten.",
        "Wünscht, nicht mehr kontaktiert zu werden.",
    ],
)
def test_a_summary_that_says_so_is_an_opt_out_without_a_detail(summary: str) -> None:
    findings = analyse_calls([summarised("c1", 1_000, summary)], opt_out_key=None)

    assert summary_opts_out(summary)
    assert (findings.opt_out, findings.opt_out_detail) == (True, None)


@pytest.mark.parametrize(
    "summary",
    [
        "I will call you back tomorrow.",
        "The agent asked: do you want me to call on Friday?",
        "Call me later, after 5 pm.",
        "Lena was busy and asked to be called back.",
        "The contact was not interested at the moment.",
        "Max did not answer the call.",
        "We called to confirm; he will call again next week.",
        "Nonstop calling from other vendors annoys him, but he booked a demo.",
        "The agent said our do notcalling policy is strict.",
        "Bitte rufen Sie mich morgen Nachmittag zurück.",
        "Er ruft später noch einmal an.",
        "Kein Interesse im Moment, aber Anrufe sind okay.",
        "",
    ],
)
def test_ordinary_summaries_about_calling_are_no_opt_out(summary: str) -> None:
    assert not summary_opts_out(summary)
    assert analyse_calls([summarised("c1", 1_000, summary)], opt_out_key=None).opt_out is False


def test_every_phrase_matches_itself_as_a_whole_phrase_only() -> None:
    for phrase in OPT_OUT_PHRASES:
        assert summary_opts_out(f"Note: {phrase.upper()}."), phrase
        assert not summary_opts_out(f"x{phrase}x"), phrase


def test_once_a_call_opted_out_a_later_call_does_not_withdraw_it() -> None:
    opted = call("c1", 1_000, call_outcome={"do_not_call": {"value": True, "reason": "Asked on Monday"}})
    later_silent = summarised("c2", 2_000, "Lena picked up and was not interested.")
    later_false = call("c3", 3_000, call_outcome={"do_not_call": {"value": False}})

    findings = analyse_calls([later_false, later_silent, opted], opt_out_key=None)  # newest first, as telli lists them

    assert (findings.opt_out, findings.opt_out_detail) == (True, "do_not_call: Asked on Monday")
    assert findings.at is not None and findings.at.timestamp() == 3  # an opt-out does not move `at`


def test_the_newest_opt_out_names_why_and_an_outcome_beats_the_same_calls_summary() -> None:
    old = call("c1", 1_000, call_outcome={"do_not_call": {"value": True, "reason": "First time"}})
    new = summarised("c2", 2_000, "Stop calling me!", call_outcome={"dnc": {"value": True, "reason": "Again"}})

    assert analyse_calls([new, old], opt_out_key=None).opt_out_detail == "dnc: Again"


OWN_KEY = "wants_no_more_calls"


@pytest.mark.parametrize("name", ["wants_no_more_calls", "Wants_No_More_Calls", "wants-no-more calls"])
def test_the_account_s_own_opt_out_outcome_counts_only_when_it_is_configured(name: str) -> None:
    said = call("c1", 1_000, call_outcome={name: {"value": True, "reason": "Said it twice"}})

    configured = analyse_calls([said], opt_out_key=OWN_KEY)
    unconfigured = analyse_calls([said], opt_out_key=None)

    assert (configured.opt_out, configured.opt_out_detail) == (True, f"{name.lower()}: Said it twice")
    assert (unconfigured.opt_out, unconfigured.opt_out_detail) == (False, None)


@pytest.mark.parametrize("value", [False, "false", "no", "0", None, "", "  "])
def test_a_false_or_empty_own_opt_out_outcome_is_none(value: Any) -> None:
    findings = analyse_calls([call("c1", 1_000, call_outcome={OWN_KEY: {"value": value}})], opt_out_key=OWN_KEY)

    assert (findings.opt_out, findings.opt_out_detail) == (False, None)


@pytest.mark.parametrize("name", ["wants_no_more_calls_today", "never_wants_no_more_calls", "no_more_calls"])
def test_the_own_key_is_the_whole_name_not_a_part_of_one(name: str) -> None:
    findings = analyse_calls([call("c1", 1_000, call_outcome={name: {"value": True}})], opt_out_key=OWN_KEY)

    assert findings.opt_out is False


def test_the_built_in_names_and_phrases_still_count_with_an_own_key() -> None:
    built_in = call("c1", 1_000, call_outcome={"do_not_call": {"value": True}})
    summary = summarised("c2", 1_000, "She said: take me off your list.")

    assert analyse_calls([built_in], opt_out_key=OWN_KEY).opt_out_detail == "do_not_call"
    assert analyse_calls([summary], opt_out_key=OWN_KEY).opt_out is True


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
