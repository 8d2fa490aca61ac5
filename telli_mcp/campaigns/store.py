"""The campaign ledgers of one process: one SQLite file, one view per telli account.

Where the file lives is decided by the composition root (`telli_mcp.backend`); the MCP tools and the campaign
CLI get their store from there.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from telli_mcp.campaigns.lead_zones import DEFAULT_ACCOUNT_TIMEZONE
from telli_mcp.local_db import IN_MEMORY

if TYPE_CHECKING:
    from telli_mcp.campaigns.contact_cache import ContactCache
    from telli_mcp.campaigns.dial_block import DialBlock
    from telli_mcp.campaigns.engine import CampaignEngine
    from telli_mcp.campaigns.ledger import Ledger
    from telli_mcp.client import TelliClient

__all__ = ["IN_MEMORY", "CampaignStore"]

"""The path of a ledger that lives as long as the store is open (the sandbox, tests)."""


class CampaignStore:
    """Opens the ledger on first use (so start-up stays fast and a server that never runs a campaign
    never touches the disk) and hands out a `CampaignEngine` per telli account."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._ledger: Ledger | None = None

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
        """`tenant`'s campaigns with a lead for this contact; none, without creating a ledger, when there is none."""
        if self._ledger is None and (self.path == IN_MEMORY or not Path(self.path).exists()):
            return []
        from telli_mcp.campaigns.run import canonical_id

        return self._root().for_tenant(tenant).campaigns_with_contact(canonical_id(contact_id))

    def _root(self) -> Ledger:
        if self._ledger is None:
            from telli_mcp.campaigns.ledger import Ledger  # imported with the first campaign, like the file it opens

            self._ledger = Ledger(self.path)
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
        """Close the ledger; the next use opens it again (an in-memory ledger then starts empty). What telli
        said about contacts is forgotten with it."""
        if "contact_cache" in self.__dict__:
            self.contact_cache.clear()
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None
