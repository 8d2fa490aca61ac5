"""The doctor says where the shared state lives and whether that database answers, without changing it and without
ever showing its password."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from postgres_helpers import postgres_url  # noqa: F401  # the fixture
from pydantic import SecretStr

from telli_mcp.config import Settings
from telli_mcp.database import MIGRATIONS, Database
from telli_mcp.doctor.database_check import check_database
from telli_mcp.doctor.results import Status

pytestmark = pytest.mark.anyio

PASSWORD = "doctor-Pa55word-never-shown"


def _settings(url: str) -> Settings:
    return Settings(database_url=SecretStr(url))


def _schema_exists(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute("SELECT to_regclass('telli_mcp_schema') IS NOT NULL").fetchone()
    return bool(row and row[0])


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens once the probe is closed


async def test_without_a_database_url_the_state_stays_in_the_data_directory() -> None:
    check = await check_database(Settings())
    assert check.status is Status.PASS and "data directory" in check.detail


async def test_a_fresh_database_answers_and_the_doctor_leaves_it_as_it_was(postgres_url: str) -> None:  # noqa: F811
    check = await check_database(_settings(postgres_url))
    assert check.status is Status.PASS and "not set up yet" in check.detail
    assert not _schema_exists(postgres_url), "the doctor migrated the database"


async def test_a_database_a_server_has_set_up_shows_its_schema_version(postgres_url: str) -> None:  # noqa: F811
    database = Database(postgres_url)
    async with database.connection():
        pass  # a server's first use migrates
    await database.aclose()
    check = await check_database(_settings(postgres_url))
    assert check.status is Status.PASS and f"schema {MIGRATIONS[-1].version}" in check.detail


async def test_a_schema_newer_than_this_build_fails_and_says_to_upgrade(postgres_url: str) -> None:  # noqa: F811
    database = Database(postgres_url)
    async with database.connection() as connection:
        await connection.execute("INSERT INTO telli_mcp_schema (version) VALUES (99)")
    await database.aclose()
    check = await check_database(_settings(postgres_url))
    assert check.status is Status.FAIL and "schema 99" in check.detail and "upgrade telli-mcp" in check.detail


async def test_an_unreachable_database_fails_naming_it_without_its_password() -> None:
    url = f"postgresql://telli:{PASSWORD}@127.0.0.1:{_closed_port()}/telli_mcp"
    check = await check_database(_settings(url))
    assert check.status is Status.FAIL and "unreachable" in check.detail
    assert "telli@127.0.0.1" in check.detail and PASSWORD not in check.detail


async def test_a_wrong_password_fails_without_echoing_it(postgres_url: str) -> None:  # noqa: F811
    parts = urlsplit(postgres_url)
    wrong = urlunsplit(parts._replace(netloc=f"{parts.username}:{PASSWORD}@{parts.hostname}:{parts.port}"))
    check = await check_database(_settings(wrong))
    assert check.status is Status.FAIL and PASSWORD not in check.detail
