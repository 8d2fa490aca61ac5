"""Agents (v2, read-only through the API)."""

from __future__ import annotations

from telli_mcp.client.models.common import Timestamp, V2ResponseModel

__all__ = ["Agent"]


class Agent(V2ResponseModel):
    """An AI voice agent configured in telli."""

    id: str
    """Agent id, used as `agent_id` when scheduling calls."""
    title: str | None = None
    """Display name."""
    language: str | None = None
    """Language the agent speaks."""
    created_at: Timestamp | None = None
    """When the agent was created."""
