"""The toolsets, one module each, as data: `SURFACES` is everything a server can offer, in the order it is offered.

To add a tool, a resource, a prompt or an instruction line, declare it in its toolset's module (see `surface`).
"""

from __future__ import annotations

from telli_mcp.server.surface import Surface
from telli_mcp.server.tools import (
    agents,
    analytics,
    bulk,
    calls,
    campaigns,
    contacts,
    do_not_call,
    live,
    phone_numbers_admin,
    properties,
    sandbox,
    search,
    status,
)

__all__ = ["SURFACES"]

SURFACES: tuple[Surface, ...] = (
    status.SURFACE,
    contacts.SURFACE,
    properties.SURFACE,
    calls.SURFACE,
    live.SURFACE,
    agents.SURFACE,
    phone_numbers_admin.SURFACE,
    campaigns.SURFACE,
    do_not_call.SURFACE,
    analytics.SURFACE,
    search.SURFACE,
    bulk.SURFACE,
    sandbox.SURFACE,
)
