"""Read leads from an inline list, a CSV file or a JSON file into raw rows with canonical column names.

Nothing here knows about telli: values stay as written (CSV cells are strings, JSON values keep their type);
`validation.py` normalises and checks them.

CSV files: UTF-8 with or without BOM; the delimiter (comma, semicolon or tab) is taken from the header line;
the first non-blank line is the header; blank rows are skipped but still counted, so row numbers match what a
spreadsheet shows (header = row 1). JSON files: a list of objects, or an object with a `leads` or `contacts`
list. Header names and JSON keys are normalised (camelCase, case, spaces, hyphens → snake_case) and common
aliases map to the contact fields, e.g. `Telefon`, `Mobile`, `phone` → `phone_number`; `Vorname` →
`first_name`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field, JsonValue

from telli_mcp.campaigns.errors import LeadSourceError
from telli_mcp.campaigns.lead_files import read_bytes
from telli_mcp.campaigns.models import ColumnProblem, LeadProblem
from telli_mcp.campaigns.values import clip_cell, quote_cell

__all__ = [
    "Column",
    "LeadSource",
    "RawLead",
    "RawLeads",
    "canonical_key",
    "load_file",
    "load_inline",
    "normalise_key",
    "open_file",
    "open_inline",
    "parse_file",
]

DELIMITERS = (",", ";", "\t")

_FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "phone_number": (
        "phone",
        "phonenumber",
        "mobile",
        "mobile_number",
        "mobile_phone",
        "cell",
        "cell_phone",
        "telephone",
        "tel",
        "telefon",
        "telefonnummer",
        "handy",
        "handynummer",
        "mobilnummer",
        "rufnummer",
    ),
    "first_name": ("firstname", "first", "given_name", "forename", "vorname"),
    "last_name": ("lastname", "last", "surname", "family_name", "nachname"),
    "email": ("e_mail", "mail", "email_address", "e_mail_address", "emailadresse", "e_mail_adresse"),
    "external_id": ("externalid", "external_contact_id", "ext_id", "crm_id"),
    "timezone": ("time_zone", "tz", "timezone_iana", "zeitzone"),
    "salutation": ("anrede",),
    "external_url": ("url", "crm_url", "link"),
}
_ALIASES = {alias: field for field, aliases in _FIELD_ALIASES.items() for alias in aliases}


class Column(BaseModel):
    """A source column: the name as written and the canonical key its values are stored under."""

    original: str
    key: str


@dataclass(slots=True)
class RawLead:
    """One non-blank source row, values keyed by canonical column key (a plain dataclass: one is built per
    row of a campaign)."""

    row: int
    values: dict[str, JsonValue]
    problems: list[LeadProblem] = field(default_factory=list)
    """Problems the reader found already (e.g. more cells than header columns)."""


class RawLeads(BaseModel):
    """Everything read from one source."""

    source: str
    """Human description, e.g. `leads.csv (CSV, ';'-separated)`."""
    sha256: str
    """Checksum of the file bytes, or of the canonical JSON of an inline list."""
    columns: list[Column]
    rows: list[RawLead]
    column_problems: list[ColumnProblem] = Field(default_factory=list)


def normalise_key(name: str) -> str:
    """`First Name`, `first-name`, `firstName` → `first_name`; `Größe` → `grosse`.

    telli wants custom variable names in lowercase ASCII snake_case, so accents are dropped and `ß` spelled out.
    """
    text = name.strip().lstrip("\ufeff")
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text)
    ascii_text = unicodedata.normalize("NFKD", text.lower().replace("ß", "ss")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text).strip("_")


def canonical_key(name: str) -> str:
    """The normalised key with contact-field aliases resolved (`Telefon` → `phone_number`)."""
    key = normalise_key(name)
    return _ALIASES.get(key, key)


@dataclass(frozen=True)
class LeadSource:
    """A lead source read lazily: header facts up front, rows on demand (each call of `rows()` starts over).

    A campaign of 50,000 leads never holds 50,000 `RawLead`s: the engine validates the rows chunk by chunk as
    they are generated. The input itself (the inline list or the file's bytes) is what is kept.
    """

    source: str
    """Human description, e.g. `leads.csv (CSV, ';'-separated)`."""
    sha256: str
    """Checksum of the file bytes, or of the canonical JSON of an inline list."""
    columns: list[Column]
    column_problems: list[ColumnProblem]
    rows: Callable[[], Iterator[RawLead]]

    def materialise(self) -> RawLeads:
        """Every row at once (tests, small sources)."""
        return RawLeads(
            source=self.source,
            sha256=self.sha256,
            columns=self.columns,
            rows=list(self.rows()),
            column_problems=self.column_problems,
        )


def load_inline(leads: Sequence[Mapping[str, JsonValue]]) -> RawLeads:
    """Read an inline list of lead objects (row = position + 1)."""
    return open_inline(leads).materialise()


def open_inline(leads: Sequence[Mapping[str, JsonValue]]) -> LeadSource:
    """An inline list of lead objects as a lazy source (row = position + 1)."""
    noun = "lead" if len(leads) == 1 else "leads"
    return _from_objects(leads, source=f"{len(leads)} inline {noun}", sha256=_inline_sha256(leads))


_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
_DIGEST_BATCH = 1000
"""Leads encoded per call while hashing an inline list: one call per lead cost more than the rest of opening a list
of 50,000, and the whole list's text at once would be held in memory."""


def _inline_sha256(leads: Sequence[Mapping[str, JsonValue]]) -> str:
    # The digest of the list's canonical JSON: each batch's text without its brackets is its leads' texts joined by
    # commas, exactly as they stand in the whole list's text.
    digest = hashlib.sha256(b"[")
    for start in range(0, len(leads), _DIGEST_BATCH):
        batch = _CANONICAL_JSON.encode(list(leads[start : start + _DIGEST_BATCH]))[1:-1]
        digest.update((b"," if start else b"") + batch.encode())
    digest.update(b"]")
    return digest.hexdigest()


def load_file(path: Path) -> RawLeads:
    """Read a CSV or JSON lead file (blocking; `planning` reads off the event loop and calls `parse_file`).

    Raises:
        LeadSourceError: the file is missing, not a regular file, too large, not UTF-8, not valid JSON, or has
            no header row.
    """
    return parse_file(path, read_bytes(path))


def parse_file(path: Path, data: bytes) -> RawLeads:
    """Parse the bytes of the lead file at `path` (its name and suffix pick the format)."""
    return open_file(path, data).materialise()


def open_file(path: Path, data: bytes) -> LeadSource:
    """The lead file at `path` (already read into `data`) as a lazy source.

    Raises:
        LeadSourceError: not UTF-8, not valid JSON, or no header row.
    """
    digest = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LeadSourceError(f"{path.name} is not UTF-8 text; save it as 'CSV UTF-8' and try again.") from None
    if _looks_like_json(path, text):
        return _from_json(text, source=f"{path.name} (JSON)", sha256=digest)
    return _from_csv(text, name=path.name, sha256=digest)


def _looks_like_json(path: Path, text: str) -> bool:
    suffix = path.suffix.lower()
    if suffix == ".json":
        return True
    if suffix in {".csv", ".tsv", ".txt"}:
        return False
    return text.lstrip().startswith(("[", "{"))


def _from_json(text: str, *, source: str, sha256: str) -> LeadSource:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LeadSourceError(f"{source} is not valid JSON: {exc.msg} at line {exc.lineno}.") from None
    if isinstance(document, dict):
        document = document.get("leads", document.get("contacts"))
    if not isinstance(document, list):
        raise LeadSourceError(f"{source} must hold a list of lead objects (or an object with a 'leads' list).")
    return _from_objects(document, source=source, sha256=sha256)


def _from_objects(items: Sequence[object], *, source: str, sha256: str) -> LeadSource:
    # One pass over the keys finds the columns (in first-seen order: a dict keeps its keys in the order they were
    # added); rows are built only when asked for.
    names: dict[object, None] = {}
    for item in items:
        if isinstance(item, Mapping):
            names.update(dict.fromkeys(item))
    columns = _ColumnIndex()
    for name in names:
        columns.add(str(name))

    def rows() -> Iterator[RawLead]:
        for index, item in enumerate(items):
            yield _object_row(index + 1, item, columns)

    return LeadSource(
        source=source, sha256=sha256, columns=columns.columns, column_problems=columns.problems, rows=rows
    )


def _object_row(row: int, item: object, columns: _ColumnIndex) -> RawLead:
    if not isinstance(item, Mapping):
        problem = LeadProblem(row=row, field="(row)", reason="not an object with lead fields")
        return RawLead(row=row, values={}, problems=[problem])
    values: dict[str, JsonValue] = {}
    for name, value in item.items():
        key = columns.add(str(name))
        if key is not None and key not in values:
            values[key] = value
    return RawLead(row=row, values=values, problems=[])


def _from_csv(text: str, *, name: str, sha256: str) -> LeadSource:
    delimiter = _sniff_delimiter(text)
    records = enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1)
    header = next(((number, cells) for number, cells in records if not _is_blank(cells)), None)
    if header is None:
        raise LeadSourceError(f"{name} is empty: it needs a header row and at least one lead.")
    columns = _ColumnIndex()
    keys = [columns.add(cell) if cell.strip() else None for cell in header[1]]
    header_line = header[0]

    def rows() -> Iterator[RawLead]:
        reader = enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1)
        for number, cells in reader:
            if number > header_line and not _is_blank(cells):
                yield _csv_row(number, cells, keys)

    label = {",": "','", ";": "';'", "\t": "tab"}[delimiter]
    return LeadSource(
        source=f"{name} (CSV, {label}-separated)",
        sha256=sha256,
        columns=columns.columns,
        column_problems=columns.problems,
        rows=rows,
    )


def _csv_row(number: int, cells: list[str], keys: list[str | None]) -> RawLead:
    values: dict[str, JsonValue] = {}
    for key, cell in zip(keys, cells, strict=False):
        if key is not None and key not in values:
            values[key] = cell
    problems = []
    extra = [cell for cell in cells[len(keys) :] if cell.strip()]
    unnamed = [cell for key, cell in zip(keys, cells, strict=False) if key is None and cell.strip()]
    if extra or unnamed:
        reason = "has values in columns without a header name"
        problems.append(LeadProblem(row=number, field="(row)", reason=reason))
    return RawLead(row=number, values=values, problems=problems)


def _sniff_delimiter(text: str) -> str:
    # csv.Sniffer guesses from a sample and misreads short files; the header line alone is reliable enough.
    first = next((line for line in text.splitlines() if line.strip()), "")
    unquoted = re.sub(r'"[^"]*"', "", first)
    counts = {delimiter: unquoted.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] > 0 else ","


def _is_blank(cells: Iterable[str]) -> bool:
    return all(not cell.strip() for cell in cells)


class _ColumnIndex:
    """Collects columns in first-seen order and reports two source columns that mean the same field."""

    def __init__(self) -> None:
        self.columns: list[Column] = []
        self.problems: list[ColumnProblem] = []
        self._by_original: dict[str, str | None] = {}
        self._by_key: dict[str, str] = {}

    def add(self, original: str) -> str | None:
        """The key to store this column's values under, or None when an earlier column already took it."""
        if original in self._by_original:
            return self._by_original[original]
        key = canonical_key(original)
        # Names are stored clipped: a file that is no lead list has a whole line of it as its "header".
        shown = clip_cell(original.lstrip("\ufeff"))
        first = self._by_key.get(key)
        if first is not None:
            reason = f"means the same as column {quote_cell(first)} ({key}); keep only one of them"
            self.problems.append(ColumnProblem(column=shown, reason=reason))
            self._by_original[original] = None
            return None
        self._by_key[key] = shown
        self._by_original[original] = key
        self.columns.append(Column(original=shown, key=key))
        return key
