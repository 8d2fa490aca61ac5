"""The ledger's SQLite schema and its migrations, applied once per file under the write lock.

`PRAGMA user_version` holds the schema version; a file written by a newer telli-mcp is refused rather than
misread. Version 2 added the run lease (generation, expiry, holder) and, per lead, when its schedule request
was sent and when its outcome can be verified (`settle_at`). Version 3 indexes leads by contact, so a webhook
event about a contact finds its campaigns without scanning every lead. Version 4 keeps a running campaign's
source (`campaign_sources`: the request it was started with), so another replica can resume it when its run's
process dies.

On the shared PostgreSQL the same tables come from migration 2 in `telli_mcp/database/migrations.py`: a change
to one schema is a change to both.
"""

from __future__ import annotations

import sqlite3

from telli_mcp.campaigns.errors import CampaignError
from telli_mcp.database.migrations import CAMPAIGN_SOURCES
from telli_mcp.local_db import open_local_db, write_transaction

__all__ = ["SCHEMA_VERSION", "connect", "prepare"]

SCHEMA_VERSION = 4

_V1 = (
    """CREATE TABLE IF NOT EXISTS campaigns (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    from_number TEXT,
    max_retry_days INTEGER,
    default_region TEXT,
    source TEXT NOT NULL,
    source_sha256 TEXT NOT NULL,
    leads_count INTEGER NOT NULL,
    invalid_count INTEGER NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    run_token TEXT,
    run_heartbeat TEXT,
    UNIQUE (tenant, id)
)""",
    """CREATE TABLE IF NOT EXISTS leads (
    tenant TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    row INTEGER NOT NULL,
    external_id TEXT NOT NULL,
    e164 TEXT NOT NULL,
    contact_id TEXT,
    state TEXT NOT NULL,
    loop_id TEXT,
    last_error TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant, campaign_id, row),
    FOREIGN KEY (tenant, campaign_id) REFERENCES campaigns (tenant, id) ON DELETE CASCADE
)""",
    "CREATE INDEX IF NOT EXISTS leads_by_state ON leads (tenant, campaign_id, state)",
)
_V2 = (
    "ALTER TABLE campaigns ADD COLUMN lease_generation INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE campaigns ADD COLUMN lease_expires_at TEXT",
    "ALTER TABLE campaigns ADD COLUMN lease_host TEXT",
    "ALTER TABLE campaigns ADD COLUMN lease_pid INTEGER",
    "ALTER TABLE campaigns ADD COLUMN lease_started TEXT",
    "ALTER TABLE leads ADD COLUMN sent_at TEXT",
    "ALTER TABLE leads ADD COLUMN settle_at TEXT",
)
_V3 = ("CREATE INDEX IF NOT EXISTS leads_by_contact ON leads (tenant, contact_id)",)
_V4 = (CAMPAIGN_SOURCES,)
_STEPS = (_V1, _V2, _V3, _V4)
"""`_STEPS[n]` takes a file from version n to n + 1."""


def connect(path: str) -> sqlite3.Connection:
    """Open (and create or migrate) the ledger at `path` (`:memory:` for a throw-away one)."""
    connection = open_local_db(path)
    prepare(connection, path)
    return connection


def prepare(connection: sqlite3.Connection, path: str) -> None:
    """Set up an open connection for the ledger: its settings, and the schema created or migrated. `path` names
    the file in the error about a newer schema (which also closes the connection)."""
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("PRAGMA foreign_keys = ON")
    _migrate(connection, path)


def _version(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


def _migrate(connection: sqlite3.Connection, path: str) -> None:
    version = _version(connection)
    if version > SCHEMA_VERSION:
        connection.close()
        raise CampaignError(
            f"The campaign ledger {path} was written by a newer telli-mcp (schema {version}); upgrade telli-mcp."
        )
    if version == SCHEMA_VERSION:
        return
    with write_transaction(connection):
        # Read again under the write lock: another process may have migrated the file meanwhile.
        for step in _STEPS[_version(connection) :]:
            for statement in step:
                connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
