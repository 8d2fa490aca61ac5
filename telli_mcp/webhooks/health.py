"""Whether telli's events reach this server, for one account: what `get_status` and `telli-mcp doctor` report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel

from telli_mcp.webhooks.receiver import WebhookEndpoint
from telli_mcp.webhooks.store import EventStore
from telli_mcp.webhooks.waiting import flowing

__all__ = ["WebhookHealth", "webhook_health"]


class WebhookHealth(BaseModel):
    endpoint: str | None
    """The receiver path for this account on this server; None when no secret is configured here."""
    flowing: bool
    """An event arrived within the last day: waits and campaigns use events instead of polling telli."""
    last_event_at: datetime | None
    last_event_kind: str | None
    last_event_age_seconds: int | None
    refused: int
    """Deliveries refused for a bad, missing or stale signature (a wrong secret shows here)."""
    last_refused_reason: str | None
    server_time: datetime
    """This server's clock: signatures more than 5 minutes off it are refused."""

    def sentence(self) -> str:
        where = "not configured here" if self.endpoint is None else f"receiving at {self.endpoint}"
        if self.last_event_at is None:
            events = "no event received yet"
        else:
            events = f"last event {self.last_event_kind} {_age(self.last_event_age_seconds or 0)} ago"
        refused = "" if not self.refused else f"; {self.refused} refused ({self.last_refused_reason})"
        return f"webhooks {where}; {events}{refused}; server time {self.server_time.isoformat(timespec='seconds')}"


def _age(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def webhook_health(
    account: str, endpoints: Sequence[WebhookEndpoint], store: EventStore | None, now: datetime
) -> WebhookHealth:
    mine = next((endpoint.path for endpoint in endpoints if endpoint.account == account), None)
    health = None if store is None else store.health(account)
    last = None if health is None else health.last_event_at
    age = None if last is None else max(0, int((now - last).total_seconds()))
    return WebhookHealth(
        endpoint=mine,
        flowing=flowing(last, now),
        last_event_at=last,
        last_event_kind=None if health is None else health.last_event_kind,
        last_event_age_seconds=age,
        refused=0 if health is None else health.refused,
        last_refused_reason=None if health is None else health.last_refused_reason,
        server_time=now,
    )
