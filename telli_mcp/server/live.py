"""Live updates: telli's webhook events become `ResourceUpdated` for the listening clients of the same account.

In the 2026-07-28 era a client listens with `subscriptions/listen` for resource URIs. When a webhook event is
stored, the resources it changed are announced: the contact (`telli://contacts/{id}`), the call's transcript
(`telli://calls/{id}/transcript`) and every campaign of this server's ledger with a lead for the contact
(`telli://campaigns/{id}`).

The SDK's bus filters by URI only, and one server serves many accounts over HTTP. So this bus (the SDK's
`SubscriptionBus` seam, which a shared bus can replace later) remembers whose listen stream each listener
feeds, and an account's updates reach only that account's streams: another tenant that knew or guessed a
contact id would still hear nothing. Legacy-era (2025-11-25) clients cannot listen (the SDK serves no
`resources/subscribe`); they see the new state when they read or call a tool again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mcp.server.subscriptions import ResourceUpdated, ServerEvent

if TYPE_CHECKING:
    from telli_mcp.webhooks.store import StoredEvent

__all__ = ["AccountBus", "AccountResourceUpdated", "announce", "updated_uris"]

logger = logging.getLogger("telli_mcp.live")


@dataclass(frozen=True)
class AccountResourceUpdated(ResourceUpdated):
    """A `ResourceUpdated` that only the given account's listeners receive."""

    account: str = ""


Listener = Callable[[ServerEvent], None]
CampaignsOf = Callable[[str, str], Sequence[str]]
"""(account, contact id) → the account's campaigns with a lead for that contact."""


class AccountBus:
    """An in-process `SubscriptionBus` whose listeners hear their own account's resource updates only."""

    def __init__(self, account_of_caller: Callable[[], str | None]) -> None:
        self._account_of_caller = account_of_caller
        self._listeners: dict[object, tuple[str | None, Listener]] = {}

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Called by the SDK inside the listen request, so the caller (and its account) is known here."""
        token = object()
        self._listeners[token] = (self._account_of_caller(), listener)

        def unsubscribe() -> None:
            self._listeners.pop(token, None)

        return unsubscribe

    async def publish(self, event: ServerEvent) -> None:
        self.publish_now(event)

    def publish_now(self, event: ServerEvent) -> None:
        """Deliver `event` synchronously (the webhook receiver calls this while it answers telli)."""
        for account, listener in list(self._listeners.values()):
            if isinstance(event, AccountResourceUpdated) and event.account != account:
                continue
            try:
                listener(event)
            except Exception:  # one broken stream must not starve the others
                logger.exception("A subscription listener failed")


def updated_uris(contact_id: str | None, call_id: str | None, campaign_ids: Sequence[str]) -> list[str]:
    """The resources an event about this contact and call changed, with the contact's campaigns."""
    uris = [] if contact_id is None else [f"telli://contacts/{contact_id}"]
    if call_id is not None:
        uris.append(f"telli://calls/{call_id}/transcript")
    return uris + [f"telli://campaigns/{campaign_id}" for campaign_id in campaign_ids]


def announce(bus: AccountBus, stored: StoredEvent, campaigns_with_contact: CampaignsOf) -> None:
    """Tell `stored`'s account's listeners which of its resources the event changed."""
    campaign_ids = campaigns_with_contact(stored.account, stored.contact_id) if stored.contact_id else []
    for uri in updated_uris(stored.contact_id, stored.call_id, campaign_ids):
        bus.publish_now(AccountResourceUpdated(uri=uri, account=stored.account))
