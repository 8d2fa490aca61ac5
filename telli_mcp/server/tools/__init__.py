"""Tool modules, one per toolset; `register_all_tools` offers every tool to the registry."""

from __future__ import annotations

from telli_mcp.server.campaign_store import CampaignStore
from telli_mcp.server.deps import ServerDeps
from telli_mcp.server.registry import ToolRegistry
from telli_mcp.server.tools import agents, calls, campaigns, contacts, properties, status

__all__ = ["register_all_tools"]


def register_all_tools(registry: ToolRegistry, deps: ServerDeps, store: CampaignStore) -> None:
    status.register(registry, deps)
    contacts.register(registry, deps)
    properties.register(registry, deps)
    calls.register(registry, deps)
    agents.register(registry, deps)
    campaigns.register(registry, deps, store)
    status.register_sandbox(registry, deps)
