"""The SQL seam: one statement, written once with `?` or `:name` parameters, means the same on both engines; and on
PostgreSQL no statement waits without bound, even on a server that stopped answering."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pydantic import SecretStr
from relay_helpers import Relay, relayed

from telli_mcp.database import DatabaseUnavailable
from telli_mcp.database.bounds import RECONNECT_PAUSE, RECONNECT_PAUSE_AT_MOST, Bounds
from telli_mcp.database.sql import PostgresSession, SqlSession, open_session


@pytest.fixture(params=["sqlite", "postgresql"])
def session(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlSession]:
    location: str | SecretStr = str(tmp_path / "seam.sqlite3")
    if request.param == "postgresql":
        location = SecretStr(request.getfixturevalue("postgres_url"))
    opened = open_session(location)
    opened.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    yield opened
    opened.close()


def _bodies(session: SqlSession) -> list[str]:
    return [row[0] for row in session.execute("SELECT body FROM notes ORDER BY id").fetchall()]


def test_positional_and_named_parameters_and_literal_percent_signs_mean_the_same_on_both(session: SqlSession) -> None:
    session.execute("INSERT INTO notes (id, body) VALUES (1, '50% off')")  # no parameters: sent as written
    session.execute("INSERT INTO notes (id, body) VALUES (?, ?)", (2, "100% sure"))
    session.execute("INSERT INTO notes (id, body) VALUES (:id, :body)", {"id": 3, "body": "at :noon"})

    assert _bodies(session) == ["50% off", "100% sure", "at :noon"]
    assert session.execute("SELECT COUNT(*) FROM notes WHERE body LIKE '%sure'").fetchone()[0] == 1


def test_executemany_counts_the_rows_it_changed_and_a_conflict_is_no_row(session: SqlSession) -> None:
    rows = [(n, f"note {n}") for n in range(5)]
    assert session.executemany("INSERT INTO notes (id, body) VALUES (?, ?) ON CONFLICT DO NOTHING", rows) == 5
    assert session.executemany("INSERT INTO notes (id, body) VALUES (?, ?) ON CONFLICT DO NOTHING", rows[:3]) == 0


def test_a_transaction_commits_together_or_not_at_all(session: SqlSession) -> None:
    def write_twice() -> None:
        with session.transaction():
            session.execute("INSERT INTO notes (id, body) VALUES (?, ?)", (1, "first"))
            session.execute("INSERT INTO notes (id, body) VALUES (?, ?)", (1, "the same id again"))

    with pytest.raises(session.integrity_errors):
        write_twice()

    assert _bodies(session) == []


HANG_GUARD = 10.0
"""Seconds a call under test may take before the test fails instead of hanging (the bound under test is 1 s)."""


def _outcome_within(call: Callable[[], object], seconds: float) -> object:
    """What `call()` returned or raised, run in a thread; the test fails if it is still waiting after `seconds`."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(call())
        except Exception as err:
            outcome.append(err)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still waiting on the database after {seconds:g} s"
    return outcome[0]


@dataclass
class Relayed:
    """A session on the test server through a relay (`relay_helpers`), bounded at 1 s, on a clock the test moves."""

    session: PostgresSession
    relay: Relay
    now: float = 0.0

    def after_the_pause(self, seconds: float = RECONNECT_PAUSE) -> None:
        """Move the session's clock past the pause that follows a failure."""
        self.now += seconds


@pytest.fixture
def relayed_session(postgres_url: str) -> Iterator[Relayed]:
    with relayed(postgres_url) as (url, relay):
        clock: list[Relayed] = []
        session = PostgresSession(SecretStr(url), bounds=Bounds(unanswered=1.0), monotonic=lambda: clock[0].now)
        clock.append(Relayed(session, relay))
        session.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        yield clock[0]
        session.close()


def test_a_statement_a_stopped_server_leaves_unanswered_ends_at_the_bound_and_the_next_one_reconnects(
    relayed_session: Relayed, postgres_url: str
) -> None:
    session, relay = relayed_session.session, relayed_session.relay
    relay.freeze()  # the server stopped; its machine's kernel still acknowledges

    outcome = _outcome_within(lambda: session.execute("SELECT 2").fetchone(), HANG_GUARD)

    assert isinstance(outcome, DatabaseUnavailable), outcome
    assert "did not answer within 1 s" in str(outcome)
    assert urlsplit(postgres_url).password not in str(outcome)
    relay.thaw()
    relayed_session.after_the_pause()
    assert session.execute("SELECT 3").fetchone() == (3,), "the next statement connects afresh"


def test_a_transaction_cut_off_by_the_bound_writes_nothing(relayed_session: Relayed) -> None:
    session, relay = relayed_session.session, relayed_session.relay

    def write_both() -> None:
        with session.transaction():
            session.execute("INSERT INTO notes (id, body) VALUES (1, 'first')")
            relay.freeze()
            session.execute("INSERT INTO notes (id, body) VALUES (2, 'second')")

    outcome = _outcome_within(write_both, HANG_GUARD)

    assert isinstance(outcome, DatabaseUnavailable), outcome
    assert "did not answer within 1 s" in str(outcome), "said as such, not as the cut looked"
    relay.thaw()
    relayed_session.after_the_pause()
    assert session.execute("SELECT count(*) FROM notes").fetchone() == (0,), "all or nothing"


def test_a_transaction_of_quick_statements_may_last_longer_than_the_bound(postgres_url: str) -> None:
    session = PostgresSession(SecretStr(postgres_url), bounds=Bounds(unanswered=1.0))
    session.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    with session.transaction():
        for row in range(3):
            session.execute("INSERT INTO notes (id, body) VALUES (?, 'slow')", (row,))
            session.execute("SELECT pg_sleep(0.6)")  # 1.8 s in all, each wait well within the 1 s bound

    assert session.execute("SELECT count(*) FROM notes").fetchone() == (3,)
    session.close()


def test_a_batch_of_rows_sent_to_a_stopped_server_ends_at_the_bound(relayed_session: Relayed) -> None:
    session, relay = relayed_session.session, relayed_session.relay
    relay.freeze()

    rows = [(row, "x" * 100) for row in range(2_000)]
    outcome = _outcome_within(lambda: session.executemany("INSERT INTO notes VALUES (?, ?)", rows), HANG_GUARD)

    assert isinstance(outcome, DatabaseUnavailable) and "did not answer within 1 s" in str(outcome), outcome
    relay.thaw()
    relayed_session.after_the_pause()
    assert session.execute("SELECT 1").fetchone() == (1,), "the session connects afresh"


def test_while_the_server_is_in_trouble_calls_fail_at_once_and_connects_are_tried_ever_less_often(
    relayed_session: Relayed,
) -> None:
    session, relay = relayed_session.session, relayed_session.relay
    relay.freeze()
    cut = _outcome_within(lambda: session.execute("SELECT 2"), HANG_GUARD)  # stopped answering: cut off at 1 s
    assert isinstance(cut, DatabaseUnavailable)
    relay.refuse()  # and now down
    relay.thaw()
    tried: list[float] = []
    for second in range(0, 40):
        relayed_session.now = float(second)
        before = relay.attempts
        outcome = _outcome_within(lambda: session.execute("SELECT 3"), HANG_GUARD)
        assert isinstance(outcome, DatabaseUnavailable), outcome
        if relay.attempts > before:
            tried.append(relayed_session.now)
    relay.accept()
    relayed_session.after_the_pause(RECONNECT_PAUSE_AT_MOST)
    assert session.execute("SELECT 4").fetchone() == (4,), "once back, used again after at most the longest pause"

    # Paused 2 s after the cut, then 4, 8, 16 and 30 s after each refused connect: no call waits on a server in
    # trouble in between (each would stop the event loop for the connect timeout).
    assert tried == [2.0, 6.0, 14.0, 30.0], tried
