"""The doctor's webhook line: is a receiver configured, did events arrive, were deliveries refused."""

from __future__ import annotations

from telli_mcp.config import Settings
from telli_mcp.doctor.results import Check, Status

__all__ = ["check_webhooks"]

NAME = "webhooks"


def check_webhooks(settings: Settings) -> Check:
    """PASS when events flow or none are configured (waits then poll telli); WARN when a receiver is configured
    but nothing arrived in a day, or deliveries were refused (usually a wrong secret or a skewed clock)."""
    from telli_mcp.backend import open_backend
    from telli_mcp.client import key_fingerprint
    from telli_mcp.webhooks.health import webhook_health

    backend = open_backend(settings, sandbox_speed=0)
    if backend.sandbox is not None:
        return Check(name=NAME, status=Status.PASS, detail="sandbox: its simulator delivers events in-process")
    if settings.api_key is None:
        return Check(name=NAME, status=Status.SKIP, detail="no TELLI_API_KEY: no account to receive events for")
    endpoints = backend.webhook_endpoints
    store = backend.events.readable(receiving=bool(endpoints))
    health = webhook_health(key_fingerprint(settings.api_key.get_secret_value()), endpoints, store, backend.now())
    try:
        detail = health.sentence()
        if health.endpoint is None and not health.flowing:
            return Check(name=NAME, status=Status.PASS, detail=f"{detail} (call results are polled from telli)")
        trouble = health.refused > 0 or not health.flowing
        return Check(name=NAME, status=Status.WARN if trouble else Status.PASS, detail=detail)
    finally:
        backend.events.close()
