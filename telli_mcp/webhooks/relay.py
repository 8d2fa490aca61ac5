"""Events stored by other replicas, published to this process's hub: PostgreSQL's LISTEN/NOTIFY, read back.

Each replica's waiters (`wait_for_call_result`), subscription listeners (`subscriptions/listen`), campaign
contact cache and contact index hang off its own `EventHub`, and telli delivers an event to one replica only.
On PostgreSQL the store announces every event it stores (`pg_notify` on `CHANNEL` inside the insert's
transaction, so only once it is committed: `EventStore.record`). The relay listens on a connection of its own
and publishes the events of other processes to this process's hub, each once; this process's own events it
skips, as the receiver published them when it stored them (the event's `origin` says whose it is).

A notification is only a nudge: the relay reads the events newer than the last one it has seen from the table,
`BATCH` at a time, in `seq` order, which is commit order (see `EventStore.record`). So no event depends on its
notification arriving. Notifications sent while the relay's connection is down are lost, so after every
(re)connect it first reads what it missed; with nothing heard for `CHECK_EVERY` seconds it reads anyway, which
also tells it a connection that died without a word is gone. Where it starts: the newest event when it first
connects (older events are in the store for whoever reads it, but are not announced again).

A database outage never ends it: it logs once per outage, naming the database by its redacted URL, retries
with a backoff that doubles up to `RETRY_AT_MOST`, and logs again when it is back. Run it for as long as the
server runs (`relay_events`, in the server's lifespan); cancelling it closes its connection.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Final

import anyio
from anyio.abc import TaskStatus

from telli_mcp.database.bounds import Bounds
from telli_mcp.database.url import redacted_url

if TYPE_CHECKING:
    from psycopg import AsyncConnection, Notify
    from pydantic import SecretStr

    from telli_mcp.webhooks.feed import EventFeed

__all__ = ["BATCH", "CHECK_EVERY", "RETRY_AT_MOST", "RETRY_FIRST", "EventRelay", "relay_events"]

logger = logging.getLogger("telli_mcp.webhooks")

BATCH: Final = 100
"""Events read per statement: a call_ended event carries its transcript, so a batch is a few megabytes at most."""
CHECK_EVERY: Final = 30.0
"""Seconds without a notification after which the relay reads anyway (a silently dead connection fails then)."""
READ_TIMEOUT: Final = 5.0
"""Seconds one read may take before the connection counts as gone (a read takes milliseconds; it is shielded from
cancellation, so this also bounds how long stopping the relay can wait)."""
RETRY_FIRST: Final = 0.5
RETRY_AT_MOST: Final = 30.0
"""The reconnect backoff: the first retry after `RETRY_FIRST` seconds, doubling up to this."""
APPLICATION_NAME: Final = "telli-mcp event relay"
"""How the relay's connection is named in `pg_stat_activity`."""


# The store (and the event models it reads) loads only when a relay runs: the server imports this module at
# startup, where a SQLite feed needs none of it.


async def relay_events(feed: EventFeed, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
    """Publish the events other replicas store to `feed.hub`, until cancelled (see the module docstring).

    Started with `task_group.start`, it reports started once it listens, or once its first attempt to connect
    failed (it goes on trying): the server does not wait for a database that is down. A feed whose store is a
    SQLite file has no other replicas: then it reports started and returns."""
    url = feed.database_url
    if url is None:
        task_status.started()
        return
    await EventRelay(url, feed).run(task_status=task_status)


class EventRelay:
    """One relay: `run` it until cancelled. The knobs are for tests; the defaults are the module's constants."""

    def __init__(
        self,
        url: SecretStr,
        feed: EventFeed,
        *,
        batch: int = BATCH,
        check_every: float = CHECK_EVERY,
        read_timeout: float = READ_TIMEOUT,
        retry_first: float = RETRY_FIRST,
        retry_at_most: float = RETRY_AT_MOST,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        from telli_mcp.webhooks.store import EVENT_COLUMNS

        self._url, self._feed = url, feed
        self._newer = f"SELECT {EVENT_COLUMNS}, origin FROM events WHERE seq > %s ORDER BY seq LIMIT %s"
        self.label = redacted_url(url.get_secret_value())
        """The database, as it may be named (no password)."""
        self._batch, self._check_every, self._read_timeout = batch, check_every, read_timeout
        self._retry_first, self._retry_at_most, self._sleep = retry_first, retry_at_most, sleep
        self.last_seen: int | None = None
        """The newest `seq` read or passed over; None until the first connection sets where the relay starts."""
        self.connections = 0
        """How many times it has connected (and listened): 1 until a connection is lost."""
        self.backend_pid: int | None = None
        """The PostgreSQL backend serving the current connection (None between connections)."""
        self._migrated = False

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Relay until cancelled; never raises for the database being unreachable or going away."""
        import psycopg

        from telli_mcp.database.migrations import SchemaLockTimeout

        own = self._feed.store.origin
        started, down, delay = False, False, self._retry_first
        while True:
            try:
                async with self._connected() as connection:
                    await self._begin(connection, own)
                    delay = self._retry_first
                    if down:
                        logger.warning("The event relay is connected to the database %s again", self.label)
                        down = False
                    if not started:
                        task_status.started()
                        started = True
                    await self._relay(connection, own)
            except (psycopg.Error, SchemaLockTimeout, TimeoutError) as err:
                self.backend_pid = None
                if not down:
                    logger.warning(
                        "Other replicas' events do not reach this one's listeners until the database is back "
                        "(retrying): %s",
                        self._reason(err),
                    )
                    down = True
            except Exception:  # a bug here must not end the server whose lifespan runs the relay
                self.backend_pid = None
                if not down:
                    logger.exception("The event relay failed; retrying")
                    down = True
            if not started:
                task_status.started()
                started = True
            await self._sleep(delay)
            delay = min(delay * 2, self._retry_at_most)

    @asynccontextmanager
    async def _connected(self) -> AsyncIterator[AsyncConnection[Any]]:
        """A new connection of the relay's own, in autocommit mode (it only reads and listens), closed on exit."""
        from psycopg import AsyncConnection

        if not self._migrated:
            # The tables may not exist yet: the first process to connect creates them (migrate is synchronous).
            # Abandoned if the relay is stopped meanwhile: shutting down never waits for another replica's migration.
            await anyio.to_thread.run_sync(self._migrate, abandon_on_cancel=True)
            self._migrated = True
        connection = await AsyncConnection.connect(
            self._url.get_secret_value(),
            autocommit=True,
            application_name=APPLICATION_NAME,
            # Keepalives among them: a peer that vanished without closing the connection is noticed within seconds.
            **Bounds().connect_kwargs(),
        )
        try:
            yield connection
        finally:
            with anyio.CancelScope(shield=True):
                await connection.close()

    def _migrate(self) -> None:
        import psycopg

        from telli_mcp.database.migrations import migrate

        with psycopg.connect(self._url.get_secret_value(), autocommit=True, **Bounds().connect_kwargs()) as connection:
            migrate(connection)

    async def _begin(self, connection: AsyncConnection[Any], own: str) -> None:
        """Listen, then catch up: every event committed from here on is either read now or announced later."""
        from telli_mcp.webhooks.store import CHANNEL

        await self._query(connection, f"LISTEN {CHANNEL}")
        self.backend_pid = connection.info.backend_pid
        self.connections += 1
        if self.last_seen is None:
            [(newest,)] = await self._query(connection, "SELECT COALESCE(MAX(seq), 0) FROM events")
            self.last_seen = int(newest)
        else:
            await self._catch_up(connection, own)

    async def _relay(self, connection: AsyncConnection[Any], own: str) -> None:
        """Act on notifications as they come, in the order they were sent (commit order); read anyway after
        `check_every` seconds of silence. Returns never: a lost connection raises."""
        while True:
            heard = await self._notifications(connection)
            if not heard:
                await self._catch_up(connection, own)
            for notification in heard:
                await self._on(notification, connection, own)

    async def _notifications(self, connection: AsyncConnection[Any]) -> list[Notify]:
        """The next notifications (those of one packet), or none after `check_every` seconds. The generator is
        left before anything else is sent on the connection: it holds the connection while it runs, and what
        arrives meanwhile waits in psycopg's backlog for the next call."""
        from telli_mcp.webhooks.store import CHANNEL

        return [
            notification
            async for notification in connection.notifies(timeout=self._check_every, stop_after=1)
            if notification.channel == CHANNEL
        ]

    async def _on(self, notification: Notify, connection: AsyncConnection[Any], own: str) -> None:
        from telli_mcp.webhooks.store import announced

        assert self.last_seen is not None
        said = announced(notification.payload)
        if said is not None and said[1] <= self.last_seen:
            return  # read already
        if said is not None and said[0] == own:
            # This process's own event, published when it was stored. Every event before it was committed before
            # it (the store's lock, see `EventStore.record`), so their notifications came first and were acted
            # on: nothing older is left unread.
            self.last_seen = said[1]
            return
        await self._catch_up(connection, own)

    async def _catch_up(self, connection: AsyncConnection[Any], own: str) -> None:
        """Publish every other process's event newer than `last_seen`, a batch at a time, oldest first."""
        assert self.last_seen is not None
        while True:
            rows = await self._query(connection, self._newer, (self.last_seen, self._batch))
            self._publish(rows, own)
            if len(rows) < self._batch:
                return

    async def _query(
        self, connection: AsyncConnection[Any], sql: str, params: tuple[object, ...] = ()
    ) -> list[tuple[Any, ...]]:
        """The rows of one statement, within `read_timeout`. Shielded: a statement cancelled halfway leaves the
        connection unusable and psycopg warning about it, so one that is under way when the relay is stopped
        finishes first (it takes milliseconds)."""
        with anyio.fail_after(self._read_timeout, shield=True):
            cursor = await connection.execute(sql, params or None)
            return await cursor.fetchall() if cursor.description is not None else []

    def _publish(self, rows: Iterable[tuple[Any, ...]], own: str) -> None:
        from telli_mcp.webhooks.store import stored_event

        for row in rows:
            *columns, origin = row
            self.last_seen = int(columns[0])
            if origin != own:
                self._feed.hub.published(stored_event(columns))

    def _reason(self, err: Exception) -> str:
        """What went wrong, naming the database by its label (libpq may quote the connection string it could
        not use: `unavailable` takes the URL out)."""
        from telli_mcp.database.migrations import SchemaLockTimeout
        from telli_mcp.database.postgres import unavailable

        if isinstance(err, TimeoutError):
            return f"The database {self.label} did not answer within {self._read_timeout:g} s"
        if isinstance(err, SchemaLockTimeout):
            return str(err)
        return str(unavailable(self._url, self.label, err))
