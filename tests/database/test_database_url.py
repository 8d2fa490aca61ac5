"""TELLI_MCP_DATABASE_URL: only PostgreSQL URLs, kept secret, shown as user@host:port/database at most."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from process_helpers import clean_env
from pydantic import ValidationError

from telli_mcp.config import Settings, describe_invalid
from telli_mcp.database import redacted_url

PASSWORD = "s3cret-Passw0rd"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"postgresql://telli:{PASSWORD}@db.internal:6432/telli_mcp", "telli@db.internal:6432/telli_mcp"),
        (f"postgres://telli:{PASSWORD}@127.0.0.1/telli_mcp?sslmode=require", "telli@127.0.0.1/telli_mcp"),
        (f"postgresql://telli@localhost/telli_mcp?password={PASSWORD}", "telli@localhost/telli_mcp"),
        ("postgresql:///telli_mcp", "localhost/telli_mcp"),
        (f"postgresql://telli:{PASSWORD}@[::1]:5432/telli_mcp", "telli@[::1]:5432/telli_mcp"),
    ],
)
def test_the_shown_url_keeps_user_host_port_and_database_and_never_the_password(url: str, shown: str) -> None:
    assert redacted_url(url) == shown


def test_the_setting_accepts_both_postgresql_schemes_and_keeps_the_url_secret() -> None:
    for scheme in ("postgresql", "postgres", "PostgreSQL"):
        settings = Settings(database_url=f" {scheme}://telli:{PASSWORD}@127.0.0.1:5432/telli_mcp ")
        assert settings.database_url is not None
        # The scheme as libpq reads it (lower case); the rest as given.
        assert (
            settings.database_url.get_secret_value() == f"{scheme.lower()}://telli:{PASSWORD}@127.0.0.1:5432/telli_mcp"
        )
        assert PASSWORD not in repr(settings) and PASSWORD not in str(settings.model_dump())


def test_unset_or_blank_means_the_sqlite_files() -> None:
    assert Settings().database_url is None
    assert Settings(database_url="  ").database_url is None


@pytest.mark.parametrize(
    "url",
    [
        f"mysql://telli:{PASSWORD}@127.0.0.1/telli_mcp",
        f"sqlite:///var/lib/telli.db?password={PASSWORD}",
        f"telli:{PASSWORD}@127.0.0.1/telli_mcp",
        f"postgresql://telli:{PASSWORD}@127.0.0.1:port/telli_mcp",
    ],
)
def test_another_scheme_is_refused_naming_the_variable_and_not_repeating_the_url(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("TELLI_MCP_DATABASE_URL", url)
    with pytest.raises(ValidationError) as caught:
        Settings()
    message = describe_invalid(caught.value)
    assert message.startswith("TELLI_MCP_DATABASE_URL=(hidden) is not valid")
    assert "postgresql://" in message
    assert PASSWORD not in message and PASSWORD not in str(caught.value)


RAW_PERCENT = "Pa%ss-w0rd"
"""A generated password with a `%` not written as `%25`: libpq's own error would quote it."""


def test_a_url_libpq_cannot_read_is_refused_without_quoting_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELLI_MCP_DATABASE_URL", f"postgresql://telli:{RAW_PERCENT}@127.0.0.1:5432/telli_mcp")
    with pytest.raises(ValidationError) as caught:
        Settings()
    message = describe_invalid(caught.value)
    assert "percent-encoded (% as %25" in message
    assert RAW_PERCENT not in message and RAW_PERCENT not in str(caught.value)


def test_a_store_given_such_a_url_anyway_names_the_database_without_the_password() -> None:
    from telli_mcp.database import DatabaseUnavailable
    from telli_mcp.database.sql import open_session

    session = open_session(f"postgresql://telli:{RAW_PERCENT}@127.0.0.1:5432/telli_mcp")
    with pytest.raises(DatabaseUnavailable) as caught:
        session.execute("SELECT 1")
    assert "telli@127.0.0.1:5432/telli_mcp" in str(caught.value)
    # Nothing chained either: a log line with the traceback would show the original error, password and all.
    assert "ss-w0rd" not in str(caught.value) and caught.value.__cause__ is None and caught.value.__context__ is None


def test_the_doctor_never_prints_the_database_password(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on: the doctor's database line fails
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://telli:{PASSWORD}@127.0.0.1:{port}/telli_mcp"
    env = clean_env(TELLI_MCP_DATABASE_URL=url, TELLI_MCP_DATA_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "telli_mcp", "doctor", "--sandbox"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert "database" in result.stdout and f"telli@127.0.0.1:{port}/telli_mcp is unreachable" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr
