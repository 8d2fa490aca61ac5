"""The doctor's database line: where the state several replicas share lives, and whether it answers.

It looks without changing anything: one direct connection reads the schema version (a server migrates when it
starts, the doctor never does). The database is named only by its redacted URL.
"""

from __future__ import annotations

from telli_mcp.config import Settings
from telli_mcp.doctor.results import Check, Status

__all__ = ["check_database"]

NAME = "database"
_EXTRA = "pip install 'telli-mcp[postgres]'"


async def check_database(settings: Settings) -> Check:
    """PASS without a database URL (one machine: the data directory) or with a reachable database at this
    build's schema or older (the server migrates it); FAIL when it is unreachable, psycopg is missing, or the
    schema is newer than this telli-mcp knows."""
    if settings.database_url is None:
        detail = "none: this process keeps its state in the data directory (TELLI_MCP_DATABASE_URL shares it)"
        return Check(name=NAME, status=Status.PASS, detail=detail)
    from telli_mcp.database import Database, DatabaseUnavailable
    from telli_mcp.database.migrations import MIGRATIONS

    database = Database(settings.database_url)
    try:
        found = await database.schema_version()
    except ImportError:
        return Check(name=NAME, status=Status.FAIL, detail=f"{database.label}: psycopg is not installed ({_EXTRA})")
    except DatabaseUnavailable as err:
        return Check(name=NAME, status=Status.FAIL, detail=str(err))
    expected = max(migration.version for migration in MIGRATIONS)
    if found is not None and found > expected:
        detail = f"{database.label}: schema {found} is newer than this telli-mcp's ({expected}); upgrade telli-mcp"
        return Check(name=NAME, status=Status.FAIL, detail=detail)
    state = "not set up yet (the first server to start creates it)" if found is None else f"schema {found}"
    return Check(name=NAME, status=Status.PASS, detail=f"PostgreSQL {database.label} answers; {state}")
