"""The PostgreSQL schema, versioned: each process brings it up to date when it first connects.

Every `Migration` has a version; `telli_mcp_schema(version, applied_at)` records the ones a database has. A
process applies what is missing in one transaction that first takes a transaction-level advisory lock, so when
several replicas start at once exactly one migrates and the others wait, then find nothing left to do. The lock
goes with the transaction (commit, rollback, or the connection dying), so a process killed mid-migration leaves
neither a lock nor half a schema behind. A process waits at most `lock_wait` seconds for another's migration,
then says so instead of hanging.

Why a small table and not Alembic: there is no ORM to generate migrations from, the schema is a handful of
statements, and PostgreSQL runs DDL inside a transaction, so the version table, the lock and the statements are
all a migration needs; Alembic would add SQLAlchemy and a second way of talking to the database for nothing.

Migrations are only ever added (the last step of a rolling upgrade must not break the replicas still running the
previous version): a new version adds tables, columns or indexes. A database migrated by a newer telli-mcp is
used as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from psycopg import Connection

__all__ = ["CAMPAIGN_SOURCES", "LOCK_KEY", "MIGRATIONS", "Migration", "SchemaLockTimeout", "migrate", "patience"]

LOCK_KEY: Final = int.from_bytes(b"telli-mc", "big")
"""The advisory lock migrations hold (one 64-bit key for the whole database: one schema per database)."""
LOCK_WAIT_SECONDS: Final = 60.0


def patience(unanswered: float) -> float:
    """How long a connect that migrates may wait on the server before the watchdog ends it (`watchdog.py`): its turn
    behind another replica's migrations, then `unanswered` for the rest. Every migration must finish well inside
    that: one that rewrites a large table (an index on `leads`, say) belongs in a step of its own, built
    CONCURRENTLY, or it is cut off, rolled back and tried again by every replica that starts."""
    return LOCK_WAIT_SECONDS + unanswered


CAMPAIGN_SOURCES: Final = """CREATE TABLE IF NOT EXISTS campaign_sources (
    tenant TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    request TEXT NOT NULL,
    PRIMARY KEY (tenant, campaign_id),
    FOREIGN KEY (tenant, campaign_id) REFERENCES campaigns (tenant, id) ON DELETE CASCADE
)"""
"""A running campaign's source: the same table in the SQLite ledger (its version 4) and here (migration 5)."""


@dataclass(frozen=True)
class Migration:
    version: int
    what: str
    statements: tuple[str, ...]


MIGRATIONS: Final = (
    Migration(
        1,
        "spent confirmation-token nonces",
        (
            "CREATE TABLE spent_tokens (nonce TEXT PRIMARY KEY, expires_at DOUBLE PRECISION NOT NULL)",
            "CREATE INDEX spent_tokens_expiry ON spent_tokens (expires_at)",
        ),
    ),
    Migration(
        2,
        "the campaign ledger (the same tables as its SQLite file, see campaigns/ledger_schema.py)",
        (
            """CREATE TABLE campaigns (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    lease_generation INTEGER NOT NULL DEFAULT 0,
    lease_expires_at TEXT,
    lease_host TEXT,
    lease_pid INTEGER,
    lease_started TEXT,
    UNIQUE (tenant, id)
)""",
            """CREATE TABLE leads (
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
    sent_at TEXT,
    settle_at TEXT,
    PRIMARY KEY (tenant, campaign_id, row),
    FOREIGN KEY (tenant, campaign_id) REFERENCES campaigns (tenant, id) ON DELETE CASCADE
)""",
            "CREATE INDEX leads_by_state ON leads (tenant, campaign_id, state)",
            "CREATE INDEX leads_by_contact ON leads (tenant, contact_id)",
        ),
    ),
    Migration(
        3,
        "the do-not-call list",
        (
            """CREATE TABLE do_not_call (
    tenant TEXT NOT NULL,
    e164 TEXT NOT NULL,
    reason TEXT,
    source TEXT NOT NULL,
    added_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (tenant, e164)
)""",
        ),
    ),
    Migration(
        4,
        "webhook events (the same tables as the event store's SQLite file, see webhooks/store.py)",
        (
            """CREATE TABLE events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    contact_id TEXT,
    call_id TEXT,
    sent_at DOUBLE PRECISION NOT NULL,
    received_at DOUBLE PRECISION NOT NULL,
    body TEXT NOT NULL,
    received_wall DOUBLE PRECISION,
    ended_at DOUBLE PRECISION,
    loop_id TEXT,
    origin TEXT,
    UNIQUE (account, delivery_id)
)""",
            "CREATE INDEX events_by_contact ON events (account, contact_id, seq)",
            "CREATE INDEX events_by_call ON events (account, call_id)",
            "CREATE INDEX calls_ended_by_contact ON events "
            "(account, contact_id, kind, call_id, received_wall, ended_at, sent_at, loop_id) WHERE kind = 'call_ended'",
            "CREATE INDEX events_by_arrival ON events (account, received_wall)",
            """CREATE TABLE forgotten (
    account TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (account, contact_id)
)""",
            "CREATE TABLE receiving (account TEXT PRIMARY KEY, since_wall DOUBLE PRECISION NOT NULL)",
            """CREATE TABLE refusals (
    account TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    last_at DOUBLE PRECISION NOT NULL,
    last_reason TEXT NOT NULL
)""",
        ),
    ),
    Migration(
        5,
        "a running campaign's source, for another replica to resume it (campaigns/ledger_schema.py version 4)",
        (CAMPAIGN_SOURCES,),
    ),
    Migration(
        6,
        "the contact index (the same tables as its SQLite file, see contact_index/store.py, with "
        "contact_name_keys for its FTS5 table, see contact_index/name_tables.py)",
        (
            # contact_id and the name keys in the "C" collation: ids order byte by byte as on SQLite, and a
            # key's prefix is an index range (LIKE 'jan%').
            """CREATE TABLE contacts (
    row BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant TEXT NOT NULL,
    contact_id TEXT COLLATE "C" NOT NULL,
    first_name TEXT,
    last_name TEXT,
    phone TEXT,
    external_id TEXT,
    properties TEXT NOT NULL,
    created_at DOUBLE PRECISION,
    dialer_state TEXT,
    call_attempts INTEGER,
    next_call_at DOUBLE PRECISION,
    reached_at DOUBLE PRECISION,
    in_call_since DOUBLE PRECISION,
    last_called_at DOUBLE PRECISION,
    state_at DOUBLE PRECISION,
    progress INTEGER,
    walk INTEGER NOT NULL,
    UNIQUE (tenant, contact_id)
)""",
            "CREATE INDEX contacts_newest ON contacts (tenant, created_at DESC NULLS LAST, contact_id)",
            "CREATE INDEX contacts_phone ON contacts (tenant, phone)",
            "CREATE INDEX contacts_external_id ON contacts (tenant, external_id)",
            "CREATE INDEX contacts_walk ON contacts (tenant, walk)",
            """CREATE TABLE property_values (
    row BIGINT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (row, key, value)
)""",
            "CREATE INDEX property_values_lookup ON property_values (key, value, row)",
            """CREATE TABLE contact_name_keys (
    tenant TEXT NOT NULL,
    row BIGINT NOT NULL,
    typo SMALLINT NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant, typo, key, row)
)""",
            "CREATE INDEX contact_name_keys_of_row ON contact_name_keys (row)",
            """CREATE TABLE syncs (
    tenant TEXT PRIMARY KEY,
    walk INTEGER NOT NULL,
    walking INTEGER NOT NULL,
    cursor TEXT,
    walk_started_at DOUBLE PRECISION,
    walk_seen INTEGER NOT NULL,
    as_of DOUBLE PRECISION
)""",
        ),
    ),
)


class SchemaLockTimeout(Exception):
    """Another process held the migration lock longer than this one would wait."""


def migrate(
    connection: Connection[Any],
    migrations: tuple[Migration, ...] = MIGRATIONS,
    *,
    lock_wait: float = LOCK_WAIT_SECONDS,
) -> list[int]:
    """Apply the migrations this database lacks (the connection must be in autocommit mode); the versions
    applied, in order: empty when another process got there first. Synchronous, so the stores' sessions and the
    async pool (which runs it in a worker thread) share this one implementation."""
    from psycopg.errors import LockNotAvailable

    with connection.transaction():
        # set_config(..., true) is SET LOCAL: the limit ends with this transaction and binds the lock wait only.
        connection.execute("SELECT set_config('lock_timeout', %s, true)", (f"{round(lock_wait * 1000)}ms",))
        try:
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        except LockNotAvailable:
            raise SchemaLockTimeout(
                f"another telli-mcp process has been migrating the database schema for more than {lock_wait:g} s; "
                "nothing was changed (start this one again once it is done)"
            ) from None
        connection.execute("SELECT set_config('lock_timeout', '0', true)")
        connection.execute(
            "CREATE TABLE IF NOT EXISTS telli_mcp_schema "
            "(version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        present = {row[0] for row in connection.execute("SELECT version FROM telli_mcp_schema").fetchall()}
        pending = sorted((m for m in migrations if m.version not in present), key=lambda m: m.version)
        for migration in pending:
            for statement in migration.statements:
                connection.execute(statement)
            connection.execute("INSERT INTO telli_mcp_schema (version) VALUES (%s)", (migration.version,))
    return [migration.version for migration in pending]
