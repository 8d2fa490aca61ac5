"""telli's signed webhooks: verify, store once, fan out (issue 14's receiver side).

It never imports `mcp`: the server reads the store and listens to the hub. Names load on first use.
"""

from typing import TYPE_CHECKING

from telli_mcp.lazy import lazy_exports

if TYPE_CHECKING:
    from telli_mcp.webhooks.events import CallEnded, ContactStatusChanged, OtherEvent, parse_event
    from telli_mcp.webhooks.hub import EventHub
    from telli_mcp.webhooks.receiver import MAX_BODY_BYTES, WEBHOOK_PATH, WebhookEndpoint, webhook_routes
    from telli_mcp.webhooks.signature import RefusedDelivery, VerifiedDelivery, signed_headers, verify
    from telli_mcp.webhooks.store import EventStore, ReceiverHealth, StoredEvent

__all__ = [
    "MAX_BODY_BYTES",
    "WEBHOOK_PATH",
    "CallEnded",
    "ContactStatusChanged",
    "EventHub",
    "EventStore",
    "OtherEvent",
    "ReceiverHealth",
    "RefusedDelivery",
    "StoredEvent",
    "VerifiedDelivery",
    "WebhookEndpoint",
    "parse_event",
    "signed_headers",
    "verify",
    "webhook_routes",
]

__getattr__ = lazy_exports(__name__, __file__)
