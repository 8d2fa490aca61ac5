"""Validation of leads against the account's property schema, before anything is sent."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pydantic import JsonValue

from telli_mcp.campaigns.leads import load_file, load_inline
from telli_mcp.campaigns.models import LeadProblem
from telli_mcp.campaigns.validation import derive_external_id, validate_leads
from telli_mcp.campaigns.values import PropertySpec

FIXTURES = Path(__file__).parent / "fixtures"


def lead(**values: JsonValue) -> dict[str, JsonValue]:
    return {"first_name": "Anna", "last_name": "Schmidt", "phone": "+49 30 1234567", **values}


def test_the_messy_csv_yields_the_exact_report(schema: list[PropertySpec]) -> None:
    result = validate_leads(load_file(FIXTURES / "messy_leads.csv"), schema, default_region="DE")
    report = result.report

    assert report.invalid == [
        LeadProblem(row=5, field="phone_number", reason="duplicate of row 2 (same phone number +49301234567)"),
        LeadProblem(row=6, field="first_name", reason="first_name is required"),
        LeadProblem(row=7, field="phone_number", reason="'12' is too short for a DE number"),
        LeadProblem(row=7, field="plan", reason="'platinum' is not an option of plan (gold, silver, bronze)"),
        LeadProblem(row=9, field="timezone", reason="'Mars/Base' is not an IANA timezone such as Europe/Berlin"),
        LeadProblem(row=9, field="budget_eur", reason="'abc' is not a number"),
        LeadProblem(row=10, field="email", reason="'frida@' is not an e-mail address"),
    ]
    assert (report.rows_read, report.contacts_count, report.invalid_leads_count) == (7, 2, 5)
    assert report.duplicates_count == 1
    assert report.unknown_columns == ["Lieblingsfarbe"]
    assert report.property_columns == {"Plan": "plan", "Budget EUR": "budget_eur"}
    assert report.launchable is False
    assert "'Lieblingsfarbe' match no contact field or property" in report.blocking_reasons[0]
    assert [(item.row, item.phone_number, item.properties) for item in result.leads] == [
        (2, "+49301234567", {"plan": "gold", "budget_eur": 1500}),
        (3, "+49307654321", {"plan": "silver", "budget_eur": 2000.5}),
    ]
    assert result.leads[0].timezone == "Europe/Berlin"


def test_ignoring_unknown_columns_makes_the_messy_csv_launchable(schema: list[PropertySpec]) -> None:
    raw = load_file(FIXTURES / "messy_leads.csv")

    report = validate_leads(raw, schema, default_region="DE", ignore_unknown_columns=True).report

    assert report.launchable is True
    assert report.unknown_columns_ignored is True
    assert report.unknown_columns == ["Lieblingsfarbe"]


def test_a_lead_without_external_id_gets_one_derived_from_its_number(schema: list[PropertySpec]) -> None:
    result = validate_leads(load_inline([lead(), lead(phone="+49 30 7654321", external_id="crm-7")]), schema)

    expected = "tm-" + hashlib.sha256(b"+49301234567").hexdigest()[:16]
    assert [(item.external_id, item.external_id_derived) for item in result.leads] == [
        (expected, True),
        ("crm-7", False),
    ]
    assert derive_external_id("+49301234567") == expected


def test_a_repeated_external_id_is_a_duplicate_of_the_first_row(schema: list[PropertySpec]) -> None:
    leads = [lead(external_id="crm-1"), lead(phone="+49 30 7654321", external_id="crm-1")]

    report = validate_leads(load_inline(leads), schema).report

    assert report.invalid == [
        LeadProblem(row=2, field="external_id", reason="duplicate of row 1 (same external_id crm-1)")
    ]
    assert report.duplicates_count == 1


def test_a_national_number_needs_a_default_region(schema: list[PropertySpec]) -> None:
    without = validate_leads(load_inline([lead(phone="030 1234567")]), schema).report
    with_region = validate_leads(load_inline([lead(phone="(212) 555-0100")]), schema, default_region="US")

    assert without.invalid[0].reason == (
        "'030 1234567' has no country code: write +<country code>... or set a default region"
    )
    assert with_region.leads[0].phone_number == "+12125550100"


@pytest.mark.parametrize(
    ("phone", "reason"),
    [
        ("+1 555", "'+1 555' is too short for a US number"),
        ("+1 555 0100", "'+1 555 0100' is too short for a US number"),
        ("+999 123456", "'+999 123456' has an unknown country code"),
        ("+49 30 1234 5678 9012 34", "'+49 30 1234 5678 9012 34' is too long for a DE number"),
        ("+49 call me", "'+49 call me' is not a phone number"),
        ("+1 555 012 3456", "'+1 555 012 3456' is not a valid phone number for US"),
    ],
)
def test_impossible_numbers_are_rejected_with_a_reason(schema: list[PropertySpec], phone: str, reason: str) -> None:
    report = validate_leads(load_inline([lead(phone=phone)]), schema).report

    assert [problem.reason for problem in report.invalid] == [reason]


def test_both_names_are_required(schema: list[PropertySpec]) -> None:
    report = validate_leads(load_inline([lead(first_name=" ", last_name=None)]), schema).report

    assert [(problem.field, problem.reason) for problem in report.invalid] == [
        ("first_name", "first_name is required"),
        ("last_name", "last_name is required"),
    ]


def test_a_file_without_a_phone_column_cannot_launch(tmp_path: Path, schema: list[PropertySpec]) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("first_name,last_name\nAnna,Schmidt\n")

    report = validate_leads(load_file(path), schema).report

    assert report.column_problems[0].column == "phone_number"
    assert report.launchable is False
    assert report.contacts_count == 0


def test_the_problem_list_is_capped_at_fifty_with_a_count_of_the_rest(schema: list[PropertySpec]) -> None:
    report = validate_leads(load_inline([lead(phone="nope")] * 60), schema).report

    assert len(report.invalid) == 50
    assert report.invalid_truncated == 10
    assert report.invalid_leads_count == 60
    assert report.invalid[-1].row == 50


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("newsletter_opt_in", "Ja", True),
        ("newsletter_opt_in", "no", False),
        ("newsletter_opt_in", True, True),
        ("budget_eur", "1234.5", 1234.5),
        ("budget_eur", "1234,5", 1234.5),
        ("budget_eur", 42, 42),
        ("follow_up_date", "2025-03-01", "2025-03-01"),
        ("last_contacted_at", "2025-03-01T10:00:00Z", "2025-03-01T10:00:00+00:00"),
        ("plan", "Gold", "gold"),
        ("interests", "solar | EV", ["solar", "ev"]),
        ("interests", "Heat Pump,solar,solar", ["heat_pump", "solar"]),
        ("interests", ["ev"], ["ev"]),
        ("assistant_phone", "+49 30 9876543", "+49309876543"),
        ("lead_source", 2025, "2025"),
    ],
)
def test_property_values_are_normalised_for_their_data_type(
    schema: list[PropertySpec], key: str, value: JsonValue, expected: JsonValue
) -> None:
    result = validate_leads(load_inline([lead(**{key: value})]), schema)

    assert result.leads[0].properties == {key: expected}


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("newsletter_opt_in", "maybe", "'maybe' is not a yes/no value (true/false, yes/no, 1/0, ja/nein)"),
        (
            "budget_eur",
            "1,000",
            "'1,000' is ambiguous (thousands separator or decimal comma?); write it without one",
        ),
        ("budget_eur", True, "True is not a number"),
        ("follow_up_date", "01.03.2025", "'01.03.2025' is not a date in the form YYYY-MM-DD"),
        ("follow_up_date", "2025-02-30", "'2025-02-30' is not a date in the form YYYY-MM-DD"),
        (
            "last_contacted_at",
            "2025-03-01T10:00:00",
            "'2025-03-01T10:00:00' has no UTC offset; write e.g. 2025-03-01T10:00:00+01:00",
        ),
        ("interests", "solar|wind", "'wind' is not an option of interests (solar, heat_pump, ev)"),
        ("billing_email", "not-mail", "'not-mail' is not an e-mail address"),
        ("lead_source", ["a", "b"], "expects a single text value"),
    ],
)
def test_invalid_property_values_are_reported_with_their_property_key(
    schema: list[PropertySpec], key: str, value: JsonValue, reason: str
) -> None:
    report = validate_leads(load_inline([lead(**{key: value})]), schema).report

    assert report.invalid == [LeadProblem(row=1, field=key, reason=reason)]


def test_empty_values_mean_not_set(schema: list[PropertySpec]) -> None:
    result = validate_leads(load_inline([lead(plan="", interests=[], email="  ", timezone=None)]), schema)

    assert result.leads[0].properties == {}
    assert result.leads[0].email is None


def test_optional_contact_fields_are_normalised(schema: list[PropertySpec]) -> None:
    values = lead(timezone="america/new_york", salutation=" Frau ", external_url="https://crm.example/c/1")

    item = validate_leads(load_inline([values]), schema).leads[0]

    assert (item.timezone, item.salutation, item.external_url) == (
        "America/New_York",
        "Frau",
        "https://crm.example/c/1",
    )
