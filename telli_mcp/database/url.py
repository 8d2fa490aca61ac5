"""The database URL: which schemes are PostgreSQL, and how the URL may be shown (never with its password).

TELLI_MCP_DATABASE_URL holds a password, so the settings keep it as a secret and everything that names the
database (errors, logs, status) shows `redacted_url`: user, host, port and database name, nothing else (a query
can carry a password too: `?password=...`).
"""

from __future__ import annotations

from typing import Final
from urllib.parse import unquote, urlsplit

__all__ = ["SCHEMES", "check_database_url", "is_postgres_url", "redacted_url"]

SCHEMES: Final = ("postgresql", "postgres")


def is_postgres_url(location: str) -> bool:
    """Whether `location` is a PostgreSQL URL (else it is a SQLite file path, or ":memory:")."""
    scheme, separator, _rest = location.strip().partition("://")
    return bool(separator) and scheme.lower() in SCHEMES


def check_database_url(url: str) -> str:
    """`url` stripped (its scheme in lower case), if it names a PostgreSQL database libpq can read; else `ValueError`
    saying what is accepted (and never repeating the URL, which may carry a password)."""
    text = url.strip()
    scheme, separator, rest = text.partition("://")
    text = f"{scheme.lower()}{separator}{rest}"  # libpq reads only a lower-case scheme
    if not is_postgres_url(text):
        raise ValueError(
            "must be a PostgreSQL URL, postgresql://user:password@host:5432/database (or postgres://...); "
            "leave it unset for the SQLite files in the data directory"
        )
    try:
        urlsplit(text).port  # noqa: B018 -- raises for a port that is not a number
    except ValueError:
        raise ValueError("has a port that is not a number (postgresql://user:password@host:5432/database)") from None
    _check_libpq_reads(text)
    return text


def _check_libpq_reads(url: str) -> None:
    """Raise `ValueError` (never quoting the URL) when libpq cannot read `url`: its own message would quote the part
    it choked on, which is often the password (a `%` not written as `%25`). Without psycopg installed there is no
    libpq to ask; the first connection then fails with the reason redacted."""
    try:
        from psycopg import ProgrammingError
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:
        return
    try:
        conninfo_to_dict(url)
    except ProgrammingError:
        raise ValueError(
            "cannot be read as a PostgreSQL URL: write special characters in the user name and password "
            "percent-encoded (% as %25, @ as %40, / as %2F)"
        ) from None


def redacted_url(url: str) -> str:
    """`user@host:port/database` of a PostgreSQL URL: what may be shown of it."""
    parts = urlsplit(url)
    user = f"{unquote(parts.username)}@" if parts.username else ""
    host = parts.hostname or "localhost"
    host = f"[{host}]" if ":" in host else host
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    database = unquote(parts.path.lstrip("/"))
    return f"{user}{host}{port}/{database}" if database else f"{user}{host}{port}"
