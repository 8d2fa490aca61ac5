"""The stores several processes can share: PostgreSQL when TELLI_MCP_DATABASE_URL names one, else SQLite files
in the data directory (one machine).

It imports only the leaf modules and `psycopg` (never `mcp`, never the client): the server, the backend and the
commands use it. `psycopg` loads only when a PostgreSQL URL is configured and a store is first used; names load
on first use.
"""

from typing import TYPE_CHECKING

from telli_mcp.lazy import lazy_exports

if TYPE_CHECKING:
    from telli_mcp.database.errors import DatabaseUnavailable
    from telli_mcp.database.migrations import MIGRATIONS, Migration, SchemaLockTimeout, migrate
    from telli_mcp.database.postgres import Database
    from telli_mcp.database.spent_tokens import PostgresSpentTokens, SpentTokens, SqliteSpentTokens
    from telli_mcp.database.url import check_database_url, redacted_url

__all__ = [
    "MIGRATIONS",
    "Database",
    "DatabaseUnavailable",
    "Migration",
    "PostgresSpentTokens",
    "SchemaLockTimeout",
    "SpentTokens",
    "SqliteSpentTokens",
    "check_database_url",
    "migrate",
    "redacted_url",
]

__getattr__ = lazy_exports(__name__, __file__)
