"""Health says whether events flow for an account, and shows signature failures (a wrong secret)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from event_store_handles import OpenEvents
from webhook_helpers import ACCOUNT_A, ACCOUNT_B, SECRET, call_ended

from telli_mcp.webhooks import EventStore, VerifiedDelivery, WebhookEndpoint, parse_event
from telli_mcp.webhooks.health import webhook_health

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
ENDPOINTS = [WebhookEndpoint(name=None, secret=SECRET, account=ACCOUNT_A)]


def test_not_configured_and_nothing_received() -> None:
    health = webhook_health(ACCOUNT_B, ENDPOINTS, EventStore(":memory:"), NOW)
    assert (health.endpoint, health.flowing, health.last_event_at) == (None, False, None)
    assert "not configured here" in health.sentence() and "no event received yet" in health.sentence()


def test_a_recent_event_means_flowing_and_refusals_show(open_events: OpenEvents) -> None:
    store = open_events(now=lambda: NOW - timedelta(minutes=3))
    payload = call_ended()
    store.record(ACCOUNT_A, VerifiedDelivery(delivery_id="m", sent_at=NOW), parse_event(payload), json.dumps(payload))
    store.refused(ACCOUNT_A, "No matching signature found")

    health = webhook_health(ACCOUNT_A, ENDPOINTS, store, NOW)

    assert (health.endpoint, health.flowing, health.last_event_age_seconds) == ("/webhooks/telli", True, 180)
    assert "last event call_ended 3 min ago" in health.sentence()
    assert "1 refused (No matching signature found)" in health.sentence()
    assert not webhook_health(ACCOUNT_A, ENDPOINTS, store, NOW + timedelta(days=2)).flowing
