"""The toolsets, one module each, as data: `SURFACES` is everything a server can offer, in the order it is offered.

To add a tool, a resource, a prompt or an instruction line, declare it in its toolset's module (see `surface`), and
add a new toolset's module to `TOOLSET_MODULES`. A server lists them from their build-time declarations
(`server.declarations`) and imports a toolset's module on its first use; `SURFACES` imports every one (the docs,
the generators and the tests read it).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from telli_mcp.server.surface import Surface

__all__ = ["SURFACES", "TOOLSET_MODULES"]

TOOLSET_MODULES: tuple[str, ...] = tuple(
    f"{__name__}.{name}"
    for name in (
        "status",
        "contacts",
        "properties",
        "calls",
        "live",
        "agents",
        "phone_numbers_admin",
        "campaigns",
        "do_not_call",
        "analytics",
        "search",
        "bulk",
        "sandbox",
    )
)
"""Each toolset's module, in the order a server offers them; each exports its `SURFACE`."""

SURFACES: tuple[Surface, ...]  # every toolset's module imported on first use (`__getattr__`)


def __getattr__(name: str) -> object:
    if name != "SURFACES":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    surfaces = tuple(import_module(module).SURFACE for module in TOOLSET_MODULES)
    globals()["SURFACES"] = surfaces
    return surfaces
