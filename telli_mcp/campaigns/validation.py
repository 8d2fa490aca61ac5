"""Turn raw lead rows into validated `Lead`s and a `ValidationReport`, before anything is sent to telli.

Decisions an operations person can rely on:

* **Invalid rows are skipped, not fatal.** Each problem is listed with its row (CSV: header = row 1, so the
  first lead is row 2; JSON/inline: position + 1) and the campaign can still launch with the valid rows.
* **Duplicates**: a later row with the same E.164 number or the same external id as an earlier *valid* row is
  invalid ("duplicate of row N"); the first occurrence is kept.
* **Unknown columns block the launch.** A column that is neither a contact field nor a property in the
  account's schema is reported once in `unknown_columns` (not once per row). Because a misspelt header would
  silently drop that data for every lead, the report is not launchable until the header is fixed, the
  property is created in telli, or the caller passes `ignore_unknown_columns=True` (the column is dropped).
* **Column problems block the launch**: no phone/first-name/last-name column, or two columns meaning the same
  field (e.g. both `Phone` and `Mobile`).
* **Names are required** (telli needs both first and last name, 1-50 characters each).
* **External ids**: a lead without one gets `tm-` + the first 16 hex digits of sha256(E.164 number), so a
  re-run (or another campaign) finds the same telli contact instead of creating a second one.
* **Reports are bounded**: at most `MAX_REPORTED_PROBLEMS` row problems, and the first few column problems and
  unknown columns with a count of the rest, however large the file (see `telli_mcp.bounded`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from pydantic import BaseModel, JsonValue

from telli_mcp.bounded import first, more
from telli_mcp.campaigns.leads import Column, LeadSource, RawLead, RawLeads, normalise_key
from telli_mcp.campaigns.models import ColumnProblem, Lead, LeadProblem, PropertyValue, ValidationReport
from telli_mcp.campaigns.values import (
    PropertySpec,
    coerce_property,
    is_empty,
    normalise_email,
    normalise_phone,
    normalise_timezone,
    normalise_url,
    quote_cell,
)
from telli_mcp.text import plain_line, visible_line

__all__ = ["MAX_REPORTED_PROBLEMS", "LeadValidator", "ValidationResult", "derive_external_id", "validate_leads"]

MAX_REPORTED_PROBLEMS = 50
MAX_NAME_LENGTH = 50
REQUIRED_FIELDS = ("phone_number", "first_name", "last_name")
OPTIONAL_FIELDS = ("email", "external_id", "timezone", "salutation", "external_url")
LEAD_FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS
_FIELD_HINTS = {
    "phone_number": "phone_number, phone, mobile or Telefon",
    "first_name": "first_name, firstname or Vorname",
    "last_name": "last_name, lastname or Nachname",
}


class ValidationResult(BaseModel):
    """The report plus the valid leads it counts."""

    report: ValidationReport
    leads: list[Lead]


def derive_external_id(e164: str) -> str:
    """The external id of a lead that has none: `tm-` + first 16 hex digits of sha256 of its E.164 number."""
    return "tm-" + hashlib.sha256(e164.encode()).hexdigest()[:16]


def validate_leads(
    raw: RawLeads | LeadSource,
    schema: Sequence[PropertySpec],
    *,
    default_region: str | None = None,
    ignore_unknown_columns: bool = False,
) -> ValidationResult:
    """Validate every row of `raw` against the account's property `schema` (all valid leads at once)."""
    validator = LeadValidator(
        raw.columns, schema, default_region=default_region, ignore_unknown_columns=ignore_unknown_columns
    )
    rows = raw.rows if isinstance(raw, RawLeads) else raw.rows()
    leads = [lead for row in rows if (lead := validator.check(row)) is not None]
    return ValidationResult(report=validator.report(raw.source, raw.column_problems), leads=leads)


class LeadValidator:
    """Validates rows one at a time and keeps only what the report needs, so a campaign can be validated
    chunk by chunk: counts, the first `MAX_REPORTED_PROBLEMS` problems, and the numbers and external ids
    seen so far (for duplicates)."""

    def __init__(
        self,
        columns: Sequence[Column],
        schema: Sequence[PropertySpec],
        *,
        default_region: str | None = None,
        ignore_unknown_columns: bool = False,
    ) -> None:
        self.columns = list(columns)
        self.default_region = default_region
        self.ignore_unknown_columns = ignore_unknown_columns
        self.properties, self.unknown = _map_columns(self.columns, schema)
        self.rows_read = self.valid = self.invalid_rows = self.duplicates = self.problems_count = 0
        self.problems: list[LeadProblem] = []
        self._seen = _Seen()

    def check(self, row: RawLead) -> Lead | None:
        """The row's lead when it is valid; otherwise None, and its problems are counted."""
        self.rows_read += 1
        lead, row_problems = _validate_row(row, self.properties, self.default_region)
        if lead is not None:
            row_problems = self._seen.check(lead)
            self.duplicates += bool(row_problems)
        if row_problems:
            self.invalid_rows += 1
            self.problems_count += len(row_problems)
            self.problems.extend(row_problems[: MAX_REPORTED_PROBLEMS - len(self.problems)])
            return None
        self.valid += lead is not None
        return lead

    def column_blocking(self, column_problems: Sequence[ColumnProblem]) -> list[str]:
        """What blocks the launch whatever the rows hold: missing, doubled or unknown columns."""
        return _column_blocking(self.columns, column_problems, self.unknown, self.ignore_unknown_columns)

    def report(self, source: str, column_problems: Sequence[ColumnProblem]) -> ValidationReport:
        """The report over the rows checked so far."""
        blocking = self.column_blocking(column_problems)
        if not self.valid:
            blocking.append("no valid leads")
        originals = {column.key: column.original for column in self.columns}
        return ValidationReport(
            source=source,
            rows_read=self.rows_read,
            contacts_count=self.valid,
            invalid_leads_count=self.invalid_rows,
            duplicates_count=self.duplicates,
            invalid=self.problems,
            invalid_truncated=max(0, self.problems_count - MAX_REPORTED_PROBLEMS),
            unknown_columns=first(self.unknown)[0],
            unknown_columns_ignored=bool(self.unknown) and self.ignore_unknown_columns,
            column_problems=first(_missing_columns(self.columns) + list(column_problems))[0],
            property_columns={originals[key]: spec.key for key, spec in self.properties.items()},
            launchable=not blocking,
            blocking_reasons=blocking,
        )


def _map_columns(
    columns: Sequence[Column], schema: Sequence[PropertySpec]
) -> tuple[dict[str, PropertySpec], list[str]]:
    """Column key → property spec for property columns, and the unknown columns as written in the source."""
    by_key: dict[str, PropertySpec] = {}
    for spec in schema:
        by_key.setdefault(normalise_key(spec.key), spec)
    properties: dict[str, PropertySpec] = {}
    unknown: list[str] = []
    for column in columns:
        if column.key in LEAD_FIELDS:
            continue
        found = by_key.get(column.key)
        if found is None:
            unknown.append(column.original)
        else:
            properties[column.key] = found
    return properties, unknown


def _validate_row(
    row: RawLead, properties: dict[str, PropertySpec], default_region: str | None
) -> tuple[Lead | None, list[LeadProblem]]:
    problems = list(row.problems)

    def field(name: str, normalise: Callable[[str], str], *, required: bool = False) -> str | None:
        value = row.values.get(name)
        if is_empty(value):
            if required:
                problems.append(LeadProblem(row=row.row, field=name, reason=f"{name} is required"))
            return None
        try:
            return normalise(_single_text(value))
        except ValueError as exc:
            problems.append(LeadProblem(row=row.row, field=name, reason=str(exc)))
            return None

    phone = field("phone_number", lambda text: normalise_phone(text, default_region), required=True)
    first_name = field("first_name", _name, required=True)
    last_name = field("last_name", _name, required=True)
    optional = {
        "email": field("email", normalise_email),
        "timezone": field("timezone", normalise_timezone),
        "salutation": field("salutation", plain_line),
        "external_url": field("external_url", normalise_url),
    }
    external_id = field("external_id", plain_line)
    values = _properties(row, properties, default_region, problems)
    if problems or phone is None or first_name is None or last_name is None:
        return None, problems
    # Every value was normalised above; the model only checks types (no rule runs twice), and its compiled
    # check costs less than pydantic's pure-Python `model_construct`.
    lead = Lead(
        row=row.row,
        phone_number=phone,
        first_name=first_name,
        last_name=last_name,
        external_id=external_id or derive_external_id(phone),
        external_id_derived=external_id is None,
        properties=values,
        email=optional["email"],
        timezone=optional["timezone"],
        salutation=optional["salutation"],
        external_url=optional["external_url"],
    )
    return lead, []


def _properties(
    row: RawLead, properties: dict[str, PropertySpec], default_region: str | None, problems: list[LeadProblem]
) -> dict[str, PropertyValue]:
    values: dict[str, PropertyValue] = {}
    for column, spec in properties.items():
        value = row.values.get(column)
        if is_empty(value):
            continue
        try:
            coerced = coerce_property(spec, value, default_region)
        except ValueError as exc:
            problems.append(LeadProblem(row=row.row, field=spec.key, reason=str(exc)))
            continue
        if coerced != []:
            values[spec.key] = coerced
    return values


def _single_text(value: JsonValue) -> str:
    if type(value) is str:
        return value  # nearly every cell: no further checks
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("expects a single text value")
    return str(value)


def _name(text: str) -> str:
    # Sent to telli: control, escape, bidi and invisible characters go; a name of nothing else is refused.
    name = " ".join(visible_line(text).split())
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"is longer than {MAX_NAME_LENGTH} characters")
    return name


class _Seen:
    """Remembers accepted leads by phone number and external id to spot duplicates."""

    def __init__(self) -> None:
        self._phones: dict[str, int] = {}
        self._external_ids: dict[str, int] = {}

    def check(self, lead: Lead) -> list[LeadProblem]:
        first = self._phones.get(lead.phone_number)
        if first is not None:
            reason = f"duplicate of row {first} (same phone number {lead.phone_number})"
            return [LeadProblem(row=lead.row, field="phone_number", reason=reason)]
        first = self._external_ids.get(lead.external_id)
        if first is not None:
            reason = f"duplicate of row {first} (same external_id {lead.external_id})"
            return [LeadProblem(row=lead.row, field="external_id", reason=reason)]
        self._phones[lead.phone_number] = lead.row
        self._external_ids[lead.external_id] = lead.row
        return []


def _column_blocking(
    columns: Sequence[Column],
    column_problems: Sequence[ColumnProblem],
    unknown: list[str],
    ignore_unknown_columns: bool,
) -> list[str]:
    # A header of 100,000 cells meaning "phone" is one line of input: the report lists a few and counts the rest.
    shown, hidden_problems = first(_missing_columns(columns) + list(column_problems))
    blocking = [f"column {quote_cell(problem.column)} {problem.reason}" for problem in shown]
    if hidden_problems:
        blocking.append(f"{more(hidden_problems)} column problems like these")
    if unknown and not ignore_unknown_columns:
        # Only the first name: a file that is no lead list has its whole first line as "unknown columns".
        others = f" {more(len(unknown) - 1)}" if len(unknown) > 1 else ""
        blocking.append(
            f"column(s) {quote_cell(unknown[0])}{others} match no contact field or property: fix the header, "
            "create the property in telli, or launch with ignore_unknown_columns to drop them"
        )
    return blocking


def _missing_columns(columns: Sequence[Column]) -> list[ColumnProblem]:
    present = {column.key for column in columns}
    return [
        ColumnProblem(column=name, reason=f"is missing: add a column named {_FIELD_HINTS[name]}")
        for name in REQUIRED_FIELDS
        if name not in present
    ]
