"""Reading lead sources: CSV dialects, header normalisation, JSON and inline lists."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from telli_mcp.campaigns.errors import LeadSourceError
from telli_mcp.campaigns.leads import canonical_key, load_file, load_inline

FIXTURES = Path(__file__).parent / "fixtures"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("First Name", "first_name"),
        ("firstName", "first_name"),
        ("FIRSTNAME", "first_name"),
        ("Vorname", "first_name"),
        ("Nachname", "last_name"),
        ("E-Mail", "email"),
        ("Telefon", "phone_number"),
        ("Mobile", "phone_number"),
        ("phoneNumber", "phone_number"),
        ("externalContactId", "external_id"),
        ("Budget EUR", "budget_eur"),
        ("Lead-Source", "lead_source"),
        ("  Zeitzone ", "timezone"),
    ],
)
def test_header_names_map_to_canonical_keys(header: str, key: str) -> None:
    assert canonical_key(header) == key


def test_a_semicolon_csv_with_bom_keeps_spreadsheet_row_numbers_across_blank_rows() -> None:
    raw = load_file(FIXTURES / "messy_leads.csv")

    assert raw.source == "messy_leads.csv (CSV, ';'-separated)"
    assert [column.key for column in raw.columns][:3] == ["first_name", "last_name", "phone_number"]
    assert raw.columns[0].original == "Vorname"
    assert [row.row for row in raw.rows] == [2, 3, 5, 6, 7, 9, 10]
    assert raw.rows[0].values["phone_number"] == "030 1234567"


def test_a_comma_csv_with_quoted_delimiters_is_read_cell_by_cell(tmp_path: Path) -> None:
    path = write(tmp_path, "leads.csv", 'first_name,last_name,phone\n"Anna; Maria","Schmidt, Dr.",+4930123456\n')

    raw = load_file(path)

    assert raw.rows[0].values == {
        "first_name": "Anna; Maria",
        "last_name": "Schmidt, Dr.",
        "phone_number": "+4930123456",
    }


def test_a_tab_separated_file_is_recognised(tmp_path: Path) -> None:
    raw = load_file(write(tmp_path, "leads.tsv", "first_name\tlast_name\tphone\nAnna\tSchmidt\t+4930123456\n"))

    assert raw.rows[0].values["last_name"] == "Schmidt"


def test_cells_beyond_the_header_are_a_row_problem(tmp_path: Path) -> None:
    raw = load_file(write(tmp_path, "leads.csv", "first_name,last_name,phone\nAnna,Schmidt,+4930123456,oops\n"))

    assert [problem.reason for problem in raw.rows[0].problems] == ["has values in columns without a header name"]


def test_two_columns_meaning_the_same_field_are_a_column_problem(tmp_path: Path) -> None:
    raw = load_file(write(tmp_path, "leads.csv", "first_name,last_name,Phone,Mobile\nA,B,+4930123456,+4930654321\n"))

    assert [(problem.column, problem.reason) for problem in raw.column_problems] == [
        ("Mobile", "means the same as column 'Phone' (phone_number); keep only one of them")
    ]
    assert raw.rows[0].values["phone_number"] == "+4930123456"


def test_a_json_file_may_be_a_list_or_an_object_with_leads(tmp_path: Path) -> None:
    leads = [{"firstName": "Anna", "lastName": "Schmidt", "phone": "+4930123456"}, "not a lead"]
    as_list = load_file(write(tmp_path, "a.json", json.dumps(leads)))
    as_object = load_file(write(tmp_path, "b.json", json.dumps({"leads": leads})))

    assert as_list.rows == as_object.rows
    assert as_list.rows[0].values == {
        "first_name": "Anna",
        "last_name": "Schmidt",
        "phone_number": "+4930123456",
    }
    assert as_list.rows[1].problems[0].row == 2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("latin1.csv", "first_name\nJ\xfcrgen\n".encode("latin-1"), "is not UTF-8"),
        ("empty.csv", "\n\n", "is empty"),
        ("broken.json", '[{"a": ', "is not valid JSON"),
        ("scalar.json", "42", "must hold a list"),
    ],
)
def test_unreadable_sources_raise_a_lead_source_error(
    tmp_path: Path, name: str, content: str | bytes, message: str
) -> None:
    with pytest.raises(LeadSourceError, match=message):
        load_file(write(tmp_path, name, content))


def test_a_missing_file_raises_a_lead_source_error(tmp_path: Path) -> None:
    with pytest.raises(LeadSourceError, match="does not exist"):
        load_file(tmp_path / "nope.csv")


def test_the_checksum_follows_the_content_not_the_key_order_of_inline_leads() -> None:
    first = load_inline([{"a": 1, "b": 2}])
    same = load_inline([{"b": 2, "a": 1}])
    other = load_inline([{"a": 1, "b": 3}])

    assert first.sha256 == same.sha256 != other.sha256
    assert first.source == "1 inline lead"


@pytest.mark.parametrize("count", [0, 1, 2, 999, 1000, 1001, 2501])
def test_the_inline_checksum_is_the_sha256_of_the_lists_canonical_json(count: int) -> None:
    """Ledgers written earlier hold this digest (a resumed campaign is matched by it), so it never changes."""
    varied = [{"b": "Müller", "a": 1, "z": None}, {"x": "\u2028 😀", "n": [1.5, True]}, {"p": f"+4930{count}"}]
    leads = [varied[index % 3] | {"i": index} for index in range(count)]
    canonical = json.dumps(leads, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)

    assert load_inline(leads).sha256 == hashlib.sha256(canonical.encode()).hexdigest()
