"""Campaigns outlive their replica: a campaign whose run died with its process is resumed by the replica its account
next speaks to.

A run that dies with its process (SIGKILL, an out-of-memory kill, a lost machine) leaves its campaign recorded as
running under a lease that lapses: at once where the process is seen to be gone (the same machine), else 20 s after
its last renewal (see `campaigns/lease.py`). Any replica may then take it over, but a run needs the account's telli
key, and telli-mcp keeps keys only in memory, for the requests that bring them. So when a request of an account
reaches this replica (at most every `LOOK_EVERY` seconds per account, in the background: the request never waits
for it), the replica looks for that account's orphaned campaigns and resumes each, with a client of its own for
that key, from the request the campaign was started with (the ledger keeps it while a run works on it). A replica
that holds a key of its own (a one-account deployment: TELLI_API_KEY on every replica) also looks for that account
every `LOOK_EVERY` seconds by itself (`watch`), so its campaigns resume even when nobody speaks to it. While looks
fail (the database is down), the next one waits twice as long each time, up to `LOOK_AT_MOST_EVERY`: a look waits on
the database on the event loop, and a database that is down must not stall every replica every 15 s.

A resumed run is an ordinary resume (`campaigns/runner.py`): taking the lease is one atomic claim, so of two
replicas that look at once one runs the campaign and the other is told it is busy; leads whose schedule requests
may have been in flight when the process died are settled with telli before anything is sent again; a campaign
stopped meanwhile is not resumed. Only runs that died are resumed, and runs the database cut off (which end as if
they had died: `campaigns/runner.py`): a run that ended otherwise, even early (telli refused), is resumed when
someone starts it again; so is a campaign started from a leads file (only the machine that read it may read it
again).

It works only with the shared database (TELLI_MCP_DATABASE_URL): the backend makes an adopter only then. It
imports no `mcp`: the server calls `poke` for every request with a key, runs `watch` for its own key, and lends it a
task group for its lifetime.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

import anyio

from telli_mcp.client import key_fingerprint

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

    from telli_mcp.campaigns.engine import CampaignEngine
    from telli_mcp.campaigns.models import CampaignRequest
    from telli_mcp.campaigns.store import CampaignStore
    from telli_mcp.client import TelliClient

__all__ = ["LOOK_AT_MOST_EVERY", "LOOK_EVERY", "CampaignAdopter"]

LOOK_EVERY: Final = 15.0
"""Seconds between two looks for one account's orphaned campaigns: a lease lapses 20 s after a dead run's last
renewal, so a look per 15 s finds a campaign soon after it may be taken over, at one indexed read per account."""

LOOK_AT_MOST_EVERY: Final = 240.0
"""After looks that failed (the database is down), the wait before the next doubles, up to this: a look waits on the
database on this replica's event loop (up to its connect timeout), so a database that is down is not asked every
`LOOK_EVERY` seconds by every account."""

logger = logging.getLogger("telli_mcp.campaigns")


class CampaignAdopter:
    """Looks for an account's orphaned campaigns when it speaks (`poke`) and resumes them in the background."""

    def __init__(
        self,
        store: CampaignStore,
        *,
        engine_for: Callable[[TelliClient, str], CampaignEngine],
        client_for: Callable[[str], TelliClient],
        look_every: float = LOOK_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._engine_for = engine_for
        self._client_for = client_for
        self._look_every = look_every
        self._clock = clock
        self._group: TaskGroup | None = None
        self._looked: dict[str, float] = {}
        self._failed: dict[str, int] = {}
        """Per account, the looks that failed in a row (the wait before the next grows with them)."""
        self._resuming: set[tuple[str, str | None]] = set()
        self._busy = 0
        self._idle = anyio.Event()
        self._idle.set()

    def attach(self, group: TaskGroup) -> None:
        """Resume campaigns in `group` (the server's, for as long as it runs); until then `poke` does nothing."""
        self._group = group

    def detach(self) -> None:
        self._group = None

    def poke(self, key: str) -> None:
        """A request of the account with `key` arrived: look for its orphaned campaigns, unless its last look was less
        than `_wait` ago."""
        group, tenant, now = self._group, key_fingerprint(key), self._clock()
        last = self._looked.get(tenant)
        if group is None or (last is not None and now - last < self._wait(tenant)):
            return
        self._looked[tenant] = now
        self._started()
        group.start_soon(self._look, group, key, tenant)

    async def watch(self, key: str, *, pause: Callable[[float], Awaitable[object]] = anyio.sleep) -> None:
        """Look for the orphaned campaigns of `key`'s account now and every `look_every` seconds after (longer while
        looks fail), for as long as this runs. For a replica that holds a key of its own (TELLI_API_KEY): its
        account's campaigns resume although nobody speaks to any replica (a campaign left to run overnight)."""
        tenant = key_fingerprint(key)
        while True:
            group = self._group
            if group is not None:
                self._looked[tenant] = self._clock()
                self._started()
                await self._look(group, key, tenant)
            await pause(self._wait(tenant))

    def _wait(self, tenant: str) -> float:
        """How long after a look the account's next one is due: `look_every`, doubled for each failed look in a row
        up to `LOOK_AT_MOST_EVERY`."""
        from telli_mcp.database.bounds import doubled

        return doubled(self._look_every, LOOK_AT_MOST_EVERY, self._failed.get(tenant, 0))

    async def idle(self) -> None:
        """Return once no look or resumed run of this adopter is under way (for tests and orderly shutdowns)."""
        await self._idle.wait()

    async def _look(self, group: TaskGroup, key: str, tenant: str) -> None:
        try:
            for request in self._orphaned(tenant):
                # A leads file was read on the machine that started the run: this replica must not read a path it
                # was handed through the database. Such a campaign resumes when someone starts it there again.
                if request.leads_file is not None:
                    continue
                if (tenant, request.campaign_id) not in self._resuming:
                    self._resuming.add((tenant, request.campaign_id))
                    self._started()
                    group.start_soon(self._resume, key, tenant, request)
        finally:
            self._ended()

    def _orphaned(self, tenant: str) -> list[CampaignRequest]:
        from telli_mcp.database import DatabaseUnavailable

        try:
            orphaned = self._store.orphaned(tenant)
        except DatabaseUnavailable as err:  # names the database without its password
            logger.warning("Could not look for campaigns to resume: %s", err)
        except Exception:  # a look runs in the server's task group: whatever it meets must not end the server
            logger.exception("Could not look for campaigns to resume")
        else:
            self._failed.pop(tenant, None)
            return orphaned
        self._failed[tenant] = self._failed.get(tenant, 0) + 1
        return []

    async def _resume(self, key: str, tenant: str, request: CampaignRequest) -> None:
        from telli_mcp.campaigns import CampaignBusyError

        try:
            async with self._client_for(key) as client:
                result = await self._engine_for(client, tenant).start(request)
            logger.info("Resumed campaign %s after its run died: %s", request.campaign_id, result.status)
        except CampaignBusyError:
            pass  # another replica took it first: that one runs it
        except Exception as err:  # a resume that fails leaves the campaign as it was, for someone to start again
            logger.warning("Could not resume campaign %s: %s", request.campaign_id, type(err).__name__)
        finally:
            self._resuming.discard((tenant, request.campaign_id))
            self._ended()

    def _started(self) -> None:
        if self._busy == 0:
            self._idle = anyio.Event()
        self._busy += 1

    def _ended(self) -> None:
        self._busy -= 1
        if self._busy == 0:
            self._idle.set()
