"""In-process fan-out of stored events: wakes waiters and tells listeners (subscriptions) that something arrived.

The store is the truth; the hub only says "look again". A waiter takes `changed(account)` before reading the
store and waits on it afterwards, so an event stored between its read and its wait still wakes it.

Which events pass through it: those this process stores (the receiver publishes each one once it is committed)
and, when the store is the shared PostgreSQL, those every other replica stores, published here by the relay
(`telli_mcp.webhooks.relay`), each once. Events that `telli-mcp webhooks serve` writes into a SQLite file it
shares with a stdio server do not; waiters there find them when they next look at the store (see
`telli_mcp.webhooks.waiting`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio

if TYPE_CHECKING:
    from telli_mcp.webhooks.store import StoredEvent

__all__ = ["EventHub", "Listener"]

logger = logging.getLogger("telli_mcp.webhooks")

Listener = Callable[["StoredEvent"], None]


class EventHub:
    def __init__(self) -> None:
        self._changed: dict[str, anyio.Event] = {}
        self._listeners: list[Listener] = []

    def changed(self, account: str) -> anyio.Event:
        """An event that is set when the next event of `account` is stored."""
        return self._changed.setdefault(account, anyio.Event())

    def listen(self, listener: Listener) -> None:
        """Call `listener` (synchronously, on the event loop) for every event published from now on."""
        self._listeners.append(listener)

    def published(self, stored: StoredEvent) -> None:
        """Tell waiters and listeners that `stored` is in the store."""
        self._changed.pop(stored.account, anyio.Event()).set()
        for listener in self._listeners:
            try:
                listener(stored)
            except Exception:  # a listener's bug must not fail the delivery telli is waiting an answer for
                logger.exception("A webhook event listener failed")
