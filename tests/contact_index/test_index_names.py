"""A name is found however it is typed: accents, letter case, word order and small typos do not matter, and a
name typed correctly comes before one that only matches with a typo."""

from __future__ import annotations

import pytest
from index_helpers import AddContact

from telli_mcp.client import TelliClient
from telli_mcp.contact_index import ContactQuery, TenantIndex, sync_contacts

pytestmark = pytest.mark.anyio


@pytest.fixture
async def people(add: AddContact, client: TelliClient, index: TenantIndex) -> dict[str, str]:
    names = [
        ("Jane", "Doe"),
        ("Janet", "Dorsey"),
        ("John", "Doe"),
        ("Jon", "Smith"),
        ("Zoë", "Müller-Strauß"),
        ("Renée", "O'Brien"),
    ]
    people = {f"{first} {last}": add(first, last, f"+49305550{n:03d}") for n, (first, last) in enumerate(names)}
    assert (await sync_contacts(index, client, budget=10)).complete
    return people


def _names(index: TenantIndex, name: str) -> list[str]:
    page = index.search(ContactQuery(name=name), offset=0, limit=10)
    assert page.total == len(page.contacts)
    return [f"{contact.first_name} {contact.last_name}" for contact in page.contacts]


@pytest.mark.parametrize("typed", ["jane", "JANE DOE", "doe jane", "Jáne", "Jnae Doe", "Jane Deo", "jane  doe!"])
async def test_jane_doe_comes_first_however_she_is_typed(
    index: TenantIndex, people: dict[str, str], typed: str
) -> None:
    assert _names(index, typed)[0] == "Jane Doe"


async def test_a_name_typed_correctly_never_brings_in_names_a_typo_away(
    index: TenantIndex, people: dict[str, str]
) -> None:
    assert _names(index, "jon") == ["Jon Smith"]  # not John, though one letter away
    assert sorted(_names(index, "doe")) == ["Jane Doe", "John Doe"]
    assert sorted(_names(index, "jan")) == ["Jane Doe", "Janet Dorsey"]  # prefixes
    assert _names(index, "jane") == ["Jane Doe", "Janet Dorsey"]  # the whole word before the prefix
    assert index.search(ContactQuery(name="Jnae Doe"), offset=0, limit=5).name_match == "typo"
    assert index.search(ContactQuery(name="jane"), offset=0, limit=5).name_match == "exact"


async def test_every_word_must_match_and_two_typos_in_one_word_are_too_many(
    index: TenantIndex, people: dict[str, str]
) -> None:
    assert _names(index, "jane smith") == []
    assert _names(index, "Jnea") == []
    assert _names(index, "mary") == []


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("zoe muller strauss", "Zoë Müller-Strauß"),
        ("STRAUSS", "Zoë Müller-Strauß"),
        ("renee o brien", "Renée O'Brien"),
        ("Renée Brien", "Renée O'Brien"),
    ],
)
async def test_accents_sharp_s_and_punctuation_are_folded(
    index: TenantIndex, people: dict[str, str], typed: str, expected: str
) -> None:
    assert _names(index, typed) == [expected]
