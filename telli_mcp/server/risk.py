"""Risk is declared once per tool and drives its annotations and its filtering.

Nothing else in the MCP layer decides whether a tool is read-only, destructive or needs the human's yes:
`ToolSpec` is the single source, `annotations_for` derives all four MCP hints from it, and declaring a tool
(`surface.ToolDef`) refuses one that needs the human's yes but declares no confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mcp.types import ToolAnnotations

__all__ = ["Risk", "ToolSpec", "annotations_for"]


class Risk(StrEnum):
    READ = "read"
    """Reads data; never changes anything."""
    WRITE = "write"
    """Creates or changes data; no person is phoned and nothing is erased."""
    DESTRUCTIVE = "destructive"
    """Erases personal data or rings a real person (costs money); needs the human's confirmation."""


@dataclass(frozen=True)
class ToolSpec:
    """Static description of one tool: what filtering and registration need before any client exists."""

    name: str
    title: str
    toolset: str
    risk: Risk
    idempotent: bool
    open_world: bool = True
    """telli is an external system (and calls reach real people), so almost every tool is open-world."""
    dials: bool = False
    """Rings people (a destructive tool): its confirmation must show each callee's local time."""

    def __post_init__(self) -> None:
        if self.dials and self.risk is not Risk.DESTRUCTIVE:
            raise ValueError(f"{self.name} dials, so it is destructive (it rings a real person)")

    @property
    def needs_confirmation(self) -> bool:
        return self.risk is Risk.DESTRUCTIVE


def annotations_for(spec: ToolSpec) -> ToolAnnotations:
    """All four hints, set explicitly, derived from the declared risk (the title lives on the tool itself)."""
    return ToolAnnotations(
        read_only_hint=spec.risk is Risk.READ,
        destructive_hint=spec.risk is Risk.DESTRUCTIVE,
        idempotent_hint=spec.idempotent,
        open_world_hint=spec.open_world,
    )
