"""The do-not-call list keeps numbers in one spelling, per tenant, with why, from where and since when, in a SQLite
file or in the PostgreSQL the replicas share; two handles on one database (two replicas) agree at once."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from postgres_helpers import postgres_url  # noqa: F401  # the fixture, for the PostgreSQL runs
from pydantic import SecretStr

from telli_mcp.database.sql import open_session
from telli_mcp.do_not_call import Added, DoNotCallList, normalise_number

A, B = "tenant-a", "tenant-b"
MAX = "+4930555010"  # fictional Berlin numbers
HANG_GUARD = 60.0
"""Seconds a racing thread may wait for the others before the test fails instead of hanging."""


class Clock:
    at = datetime(2026, 11, 30, 9, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


OpenLists = Callable[[], DoNotCallList]
"""Opens another handle on the same lists: another process, a replica, a restart."""


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str | SecretStr:
    """Where the lists are kept: a SQLite file, or the test PostgreSQL's URL (as the settings hold it: a secret)."""
    if request.param == "sqlite":
        return str(tmp_path / "do-not-call.sqlite3")
    return SecretStr(request.getfixturevalue("postgres_url"))


@pytest.fixture
def open_lists(location: str | SecretStr) -> Iterator[OpenLists]:
    opened: list[DoNotCallList] = []

    def open_handle() -> DoNotCallList:
        opened.append(DoNotCallList(location, now=Clock()))
        return opened[-1]

    yield open_handle
    for lists in opened:
        lists.close()


def berlin(count: int, *, start: int = 0) -> list[str]:
    return [f"+4930555{n:04d}" for n in range(start, start + count)]


def test_one_number_typed_three_ways_is_one_entry_with_its_reason_source_and_time(open_lists: OpenLists) -> None:
    lists = open_lists()
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


def test_a_reason_with_a_nul_character_is_kept_alike_on_both_engines(open_lists: OpenLists) -> None:
    # PostgreSQL's text cannot hold NUL; the stores turn it into U+FFFD on both engines rather than failing the add.
    lists = open_lists()

    added = lists.for_tenant(A).add([MAX], reason="said \x00stop\x00", source="tool")

    assert added.added == [MAX]
    [entry] = lists.for_tenant(A).page(limit=10)[0]
    assert entry.reason == "said \ufffdstop\ufffd"


def test_a_number_without_a_country_code_or_too_short_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="no country code"):
        normalise_number("030 5550 10")
    with pytest.raises(ValueError, match="too short for a DE number"):
        normalise_number("+49 30")


def test_one_tenant_s_list_neither_blocks_nor_shows_another_s_numbers(open_lists: OpenLists) -> None:
    lists = open_lists()
    lists.for_tenant(A).add([MAX], reason=None, source="tool")

    assert lists.for_tenant(A).blocked([MAX, "+4930555011"]) == {MAX}
    assert lists.for_tenant(B).blocked([MAX]) == set()
    assert lists.for_tenant(B).page(limit=10) == ([], None) and lists.for_tenant(B).count() == 0
    assert lists.for_tenant(B).remove([MAX]) == [] and lists.for_tenant(A).count() == 1


def test_pages_walk_the_whole_list_once_and_removing_re_enables_a_number(open_lists: OpenLists) -> None:
    numbers = berlin(2_345)
    open_lists().for_tenant(A).add(numbers, reason=None, source="import list.csv")

    reopened = open_lists().for_tenant(A)  # kept beyond the handle that wrote it
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


# ---- two replicas on one database ------------------------------------------------------------------------------


def test_a_number_added_through_one_replica_is_blocked_through_another_at_once(open_lists: OpenLists) -> None:
    replica_a, replica_b = open_lists().for_tenant(A), open_lists().for_tenant(A)
    assert replica_b.blocked([MAX]) == set()  # B has read the list before: nothing of it may be kept

    replica_a.add([MAX], reason="asked on the call", source="tool")
    assert replica_b.blocked([MAX]) == {MAX}
    assert replica_b.add([MAX], reason="again", source="tool") == Added(added=[], already=[MAX])

    assert replica_a.remove([MAX]) == [MAX]
    assert replica_b.blocked([MAX]) == set() and replica_b.count() == 0
    assert replica_b.remove([MAX]) == [], "B must not report taking off what A already took off"


def test_replicas_never_show_one_tenant_another_s_entries(open_lists: OpenLists) -> None:
    replica_a, replica_b = open_lists(), open_lists()
    replica_a.for_tenant(A).add([MAX, "+4930555011"], reason="tenant A's reason", source="tool")
    replica_b.for_tenant(B).add([MAX], reason="tenant B's reason", source="cli")

    assert replica_b.for_tenant(B).blocked([MAX, "+4930555011"]) == {MAX}
    assert [(e.phone_number, e.reason) for e in replica_b.for_tenant(B).entries()] == [(MAX, "tenant B's reason")]
    assert replica_a.for_tenant(B).remove([MAX, "+4930555011"]) == [MAX]
    assert replica_b.for_tenant(A).blocked([MAX, "+4930555011"]) == {MAX, "+4930555011"}
    assert [e.reason for e in replica_b.for_tenant(A).entries()] == ["tenant A's reason"] * 2
    assert replica_a.for_tenant(B).count() == 0


def test_of_two_replicas_adding_or_removing_the_same_numbers_at_once_each_reports_each_number_once(
    open_lists: OpenLists,
) -> None:
    numbers = berlin(600)  # more than one statement's worth
    replicas = [open_lists().for_tenant(A), open_lists().for_tenant(A)]
    rounds = 4
    start = threading.Barrier(2, timeout=HANG_GUARD)

    def batch(attempt: int, which: int) -> list[str]:
        # Opposite orders, so each replica gets to some numbers first and finds the other's in its way.
        batch = [number.replace("+4930555", f"+493055{attempt}") for number in numbers]
        return batch if which == 0 else batch[::-1]

    def add_rounds(which: int) -> list[Added]:
        added = []
        for attempt in range(rounds):
            start.wait()
            added.append(replicas[which].add(batch(attempt, which), reason=f"replica {which}", source="tool"))
        return added

    def remove_all(which: int) -> list[str]:
        start.wait()
        return replicas[which].remove([number for attempt in range(rounds) for number in batch(attempt, which)])

    with ThreadPoolExecutor(2) as pool:
        adds = [future.result(timeout=HANG_GUARD) for future in [pool.submit(add_rounds, w) for w in (0, 1)]]
        assert replicas[1].count() == rounds * len(numbers)
        removes = [future.result(timeout=HANG_GUARD) for future in [pool.submit(remove_all, w) for w in (0, 1)]]

    for first, second in zip(*adds, strict=True):
        assert not set(first.added) & set(second.added), "a number reported added by both replicas"
        assert sorted(first.added + second.added) == sorted(first.added + first.already)
    assert not set(removes[0]) & set(removes[1]), "a number reported taken off by both replicas"
    assert len(removes[0]) + len(removes[1]) == rounds * len(numbers) and replicas[0].count() == 0


def test_paging_through_one_replica_while_another_adds_repeats_and_skips_nothing(open_lists: OpenLists) -> None:
    reader, writer = open_lists().for_tenant(A), open_lists().for_tenant(A)
    even = berlin(60)[::2]  # +49305550000, ...0002, ...0058
    writer.add(even, reason=None, source="tool")

    seen: list[str] = []
    page, cursor = reader.page(limit=10)
    seen += [entry.phone_number for entry in page]
    assert cursor == even[9]
    # Between pages: one number before the cursor (already passed) and one after it (still ahead).
    writer.add(["+49305550001", "+49305550031"], reason=None, source="tool")
    writer.remove([even[12]])
    while cursor is not None:
        page, cursor = reader.page(limit=10, after=cursor)
        seen += [entry.phone_number for entry in page]

    expected = sorted([number for number in even if number != even[12]] + ["+49305550031"])
    assert seen == expected, "each number once, in order; the one added behind the cursor is not shown"


# ---- where the lists are kept ----------------------------------------------------------------------------------


def test_lists_on_an_open_session_use_it_and_leave_it_open(location: str | SecretStr) -> None:
    session = open_session(location)
    try:
        lists = DoNotCallList(session, now=Clock())
        lists.for_tenant(A).add([MAX], reason=None, source="tool")
        lists.close()  # the session is its opener's

        [(count,)] = session.execute("SELECT COUNT(*) FROM do_not_call WHERE tenant = ?", (A,)).fetchall()
        assert count == 1
        assert DoNotCallList(location).for_tenant(A).blocked([MAX]) == {MAX}
    finally:
        session.close()


def test_an_in_memory_list_lives_as_long_as_its_handle() -> None:
    lists = DoNotCallList(":memory:")
    lists.for_tenant(A).add([MAX], reason=None, source="tool")

    assert lists.for_tenant(A).blocked([MAX]) == {MAX}
    assert DoNotCallList(":memory:").for_tenant(A).count() == 0


def test_the_database_s_password_is_never_shown() -> None:
    pytest.importorskip("psycopg")
    from telli_mcp.database import DatabaseUnavailable

    # Port 1 on loopback: nothing listens, so the first statement fails to connect.
    lists = DoNotCallList(SecretStr("postgresql://dialler:pw-Wq81xZ@127.0.0.1:1/telli"))

    assert lists.label == "dialler@127.0.0.1:1/telli" and "pw-Wq81xZ" not in repr(lists)
    with pytest.raises(DatabaseUnavailable) as failed:
        lists.for_tenant(A).blocked([MAX])
    assert "dialler@127.0.0.1:1/telli" in str(failed.value) and "pw-Wq81xZ" not in str(failed.value)


def test_a_list_in_a_sqlite_file_never_loads_psycopg(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from telli_mcp.do_not_call import DoNotCallList\n"
        f"lists = DoNotCallList({str(tmp_path / 'dnc.sqlite3')!r}).for_tenant('t')\n"
        f"lists.add([{MAX!r}], reason=None, source='tool')\n"
        f"assert lists.blocked([{MAX!r}]) == {{{MAX!r}}}\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('psycopg', 'psycopg_pool')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=HANG_GUARD)
    assert (done.returncode, done.stderr, done.stdout.strip()) == (0, "", "[]")
