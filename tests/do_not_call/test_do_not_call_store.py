"""The do-not-call list keeps numbers in one spelling, per tenant, with why, from where and since when."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from telli_mcp.do_not_call import DoNotCallList, normalise_number

A, B = "tenant-a", "tenant-b"
MAX = "+4930555010"  # fictional Berlin numbers


class Clock:
    at = datetime(2026, 11, 30, 9, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


def test_one_number_typed_three_ways_is_one_entry_with_its_reason_source_and_time() -> None:
    lists = DoNotCallList(":memory:", now=Clock())
    numbers = [normalise_number(raw) for raw in ("+49 30 5550 10", "+49305550 10", "+49 (30) 555-010")]

    first = lists.for_tenant(A).add(numbers[:1], reason="asked on the call of 2 March", source="tool")
    again = lists.for_tenant(A).add(numbers, reason="later, other words", source="import leads.csv")

    assert numbers == [MAX] * 3
    assert (first.added, first.already, again.added, again.already) == ([MAX], [], [], [MAX])
    [entry] = lists.for_tenant(A).page(limit=10)[0]
    assert (entry.phone_number, entry.reason, entry.source, entry.added_at) == (
        MAX,
        "asked on the call of 2 March",  # the first entry is kept as it was
        "tool",
        Clock.at,
    )


def test_a_number_without_a_country_code_or_too_short_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="no country code"):
        normalise_number("030 5550 10")
    with pytest.raises(ValueError, match="too short for a DE number"):
        normalise_number("+49 30")


def test_one_tenant_s_list_neither_blocks_nor_shows_another_s_numbers() -> None:
    lists = DoNotCallList(":memory:")
    lists.for_tenant(A).add([MAX], reason=None, source="tool")

    assert lists.for_tenant(A).blocked([MAX, "+4930555011"]) == {MAX}
    assert lists.for_tenant(B).blocked([MAX]) == set()
    assert lists.for_tenant(B).page(limit=10) == ([], None) and lists.for_tenant(B).count() == 0
    assert lists.for_tenant(B).remove([MAX]) == [] and lists.for_tenant(A).count() == 1


def test_pages_walk_the_whole_list_once_and_removing_re_enables_a_number(tmp_path: Path) -> None:
    path = str(tmp_path / "do-not-call.sqlite3")
    numbers = [f"+4930555{n:04d}" for n in range(2_345)]
    DoNotCallList(path).for_tenant(A).add(numbers, reason=None, source="import list.csv")

    reopened = DoNotCallList(path).for_tenant(A)  # kept on disk
    seen, cursor = [], None
    while True:
        page, cursor = reopened.page(limit=1000, after=cursor)
        seen += [entry.phone_number for entry in page]
        if cursor is None:
            break
    exported = [entry.phone_number for entry in reopened.entries()]
    removed = reopened.remove([numbers[0], "+4930999999"])

    assert seen == sorted(numbers) == exported
    assert removed == [numbers[0]]
    assert reopened.blocked(numbers[:2]) == {numbers[1]} and reopened.count() == len(numbers) - 1
