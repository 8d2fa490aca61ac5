"""What the doctor found: one `Check` per line it prints, gathered in a `DoctorReport`."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel

__all__ = ["Check", "ClaudeDesktop", "DoctorReport", "Status"]


class Status(StrEnum):
    PASS = "PASS"
    WARN = "WARN"
    """Works, but probably not what the user wants (e.g. confirmation switched off)."""
    FAIL = "FAIL"
    """telli-mcp will not work like this; the doctor exits non-zero."""
    SKIP = "SKIP"
    """Could not be checked because an earlier check failed."""


class Check(BaseModel):
    name: str
    status: Status
    detail: str


class ClaudeDesktop(BaseModel):
    config_path: str
    """Where Claude Desktop's config file lives on this OS."""
    note: str | None = None
    config: dict[str, Any]
    """The block to merge into that file: `{"mcpServers": {...}}`, with a placeholder instead of the key."""


class DoctorReport(BaseModel):
    checks: list[Check]
    claude_desktop: ClaudeDesktop

    @property
    def ok(self) -> bool:
        return all(check.status is not Status.FAIL for check in self.checks)
