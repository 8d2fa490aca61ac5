"""The campaign ledgers of one process: one ledger (a SQLite file, or the PostgreSQL database the replicas
share), one view per telli account.

Where the ledger lives is decided by the composition root (`telli_mcp.backend`): the data directory's file, or
TELLI_MCP_DATABASE_URL; the MCP tools and the campaign CLI get their store from there.
"""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from telli_mcp.database.url import is_postgres_url
from telli_mcp.local_db import IN_MEMORY
from telli_mcp.zones import DEFAULT_ACCOUNT_TIMEZONE

if TYPE_CHECKING:
    from telli_mcp.campaigns.contact_cache import ContactCache
    from telli_mcp.campaigns.dial_block import DialBlock
    from telli_mcp.campaigns.engine import CampaignEngine
    from telli_mcp.campaigns.ledger import Ledger
    from telli_mcp.campaigns.models import CampaignRequest
    from telli_mcp.client import TelliClient

__all__ = ["IN_MEMORY", "CampaignStore"]

logger = logging.getLogger("telli_mcp.campaigns")


class CampaignStore:
    """Opens the ledger on first use (so start-up stays fast and a server that never runs a campaign
    never touches the disk or the database) and hands out a `CampaignEngine` per telli account.

    `location`: a SQLite path, `IN_MEMORY` (a ledger that lives as long as the store is open: the sandbox,
    tests), or a `postgresql://` URL (as a secret or plain: it is only ever shown redacted)."""

    def __init__(self, location: str | SecretStr) -> None:
        raw = location.get_secret_value() if isinstance(location, SecretStr) else location
        shared = is_postgres_url(raw)
        self._location: str | SecretStr = SecretStr(raw) if shared else raw  # a URL is kept as a secret only
        self._file = None if shared else raw
        """The SQLite path (None: the ledger is in PostgreSQL)."""
        self._ledger: Ledger | None = None
        self._unreadable: set[tuple[str, str]] = set()
        """Kept requests found unreadable, said once each (a replica looks every 15 s)."""

    @cached_property
    def contact_cache(self) -> ContactCache:
        """One per store, so the pages of one campaign's status share telli's answers (entries are per tenant)."""
        from telli_mcp.campaigns.contact_cache import ContactCache

        return ContactCache()

    def forget_contacts(self, tenant: str) -> None:
        """Drop what telli said about `tenant`'s contacts (after a write or an event changed some of them)."""
        if "contact_cache" in self.__dict__:  # never built for it: nothing to forget
            self.contact_cache.forget(tenant)

    def campaigns_with_contact(self, tenant: str, contact_id: str) -> list[str]:
        """`tenant`'s campaigns with a lead for this contact; none, without creating a ledger file, when there is
        none (the shared database is asked: another replica may have run the campaign)."""
        if self._ledger is None and self._no_file_yet():
            return []
        from telli_mcp.campaigns.run import canonical_id

        return self._root().for_tenant(tenant).campaigns_with_contact(canonical_id(contact_id))

    def orphaned(self, tenant: str) -> list[CampaignRequest]:
        """`tenant`'s campaigns whose run died with its process (`Ledger.orphans`), as the requests they were started
        with; none, without creating a ledger file, when there is none."""
        if self._ledger is None and self._no_file_yet():
            return []
        from telli_mcp.campaigns.models import CampaignRequest

        ledger = self._root().for_tenant(tenant)
        requests = []
        for campaign_id in ledger.orphans():
            source = ledger.source(campaign_id)
            try:
                if source is not None:
                    requests.append(CampaignRequest.model_validate_json(source))
            except ValueError:  # kept by a version that wrote it otherwise: the others still resume
                if (tenant, campaign_id) not in self._unreadable:
                    self._unreadable.add((tenant, campaign_id))
                    logger.warning(
                        "Campaign %s cannot be resumed from what the ledger kept; start it again", campaign_id
                    )
        return requests

    def _no_file_yet(self) -> bool:
        """The ledger is a SQLite file that does not exist (or an in-memory one not made yet): it holds nothing."""
        return self._file is not None and (self._file == IN_MEMORY or not Path(self._file).exists())

    def _root(self) -> Ledger:
        if self._ledger is None:
            from telli_mcp.campaigns.ledger import Ledger  # imported with the first campaign, like what it opens

            self._ledger = Ledger(self._location)
        return self._ledger

    def engine(
        self,
        client: TelliClient,
        tenant: str,
        *,
        account_timezone: str = DEFAULT_ACCOUNT_TIMEZONE,
        dial_block: DialBlock | None = None,
        opt_out_key: str | None = None,
    ) -> CampaignEngine:
        """An engine for one account; `account_timezone` is that account's clock (TELLI_ACCOUNT_TIMEZONE),
        `dial_block` its do-not-call list (None: nothing is blocked), `opt_out_key` its own opt-out outcome
        (TELLI_MCP_OPT_OUT_KEY)."""
        from telli_mcp.campaigns.engine import CampaignEngine

        return CampaignEngine(
            client,
            self._root().for_tenant(tenant),
            account_timezone=account_timezone,
            contact_cache=self.contact_cache,
            dial_block=dial_block,
            opt_out_key=opt_out_key,
        )

    def close(self) -> None:
        """Close the ledger (its file, or its connection to the database); the next use opens it again (an
        in-memory ledger then starts empty). What telli said about contacts is forgotten with it."""
        if "contact_cache" in self.__dict__:
            self.contact_cache.clear()
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None
