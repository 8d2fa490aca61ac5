"""Where campaign ledgers live for the MCP server: one SQLite file, one view per telli account."""

from __future__ import annotations

from pathlib import Path

from telli_mcp.campaigns import CampaignEngine, Ledger
from telli_mcp.campaigns.lead_zones import DEFAULT_ACCOUNT_TIMEZONE
from telli_mcp.client import TelliClient
from telli_mcp.config import Settings, resolve_data_dir

__all__ = ["CampaignStore", "ledger_path"]

LEDGER_FILE = "campaigns.sqlite3"


def ledger_path(settings: Settings) -> str:
    """`TELLI_MCP_DATA_DIR` if set; in-memory in the sandbox; else the platform's user data directory."""
    if settings.sandbox and not settings.data_dir:
        return ":memory:"
    return str(resolve_data_dir(settings) / LEDGER_FILE)


class CampaignStore:
    """Opens the ledger on first use (so start-up stays fast and a server that never runs a campaign
    never touches the disk) and hands out a `CampaignEngine` per telli account."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._ledger: Ledger | None = None

    def _root(self) -> Ledger:
        if self._ledger is None:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._ledger = Ledger(self.path)
        return self._ledger

    def engine(
        self, client: TelliClient, tenant: str, *, account_timezone: str = DEFAULT_ACCOUNT_TIMEZONE
    ) -> CampaignEngine:
        """An engine for one account; `account_timezone` is that account's clock (TELLI_ACCOUNT_TIMEZONE)."""
        return CampaignEngine(client, self._root().for_tenant(tenant), account_timezone=account_timezone)

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None
