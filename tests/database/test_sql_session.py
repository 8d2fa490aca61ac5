"""The SQL seam: one statement, written once with `?` or `:name` parameters, means the same on both engines."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from telli_mcp.database.sql import SqlSession, open_session


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
