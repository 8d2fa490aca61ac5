"""Completions for ids in prompts and resource templates, where they are cheap to list."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import Completion, CompletionArgument, PromptReference, ResourceTemplateReference

from telli_mcp.client import TelliError
from telli_mcp.server.deps import deps_of

__all__ = ["register_completions"]

MAX_VALUES = 20


async def _ids(argument: CompletionArgument) -> list[str]:
    # The handler gets no request context: the deps and the caller's key come from the request's middleware.
    try:
        client = deps_of().client()
    except ToolError:  # no key at all: nothing to complete from
        return []
    if argument.name == "agent_id":
        return [agent.id for agent in (await client.agents.list(limit=100)).items]
    if argument.name == "call_id":
        return [call.call_id for call in (await client.calls.list(limit=MAX_VALUES)).items]
    if argument.name == "contact_id":
        return [contact.id for contact in (await client.contacts.list(limit=MAX_VALUES)).items]
    return []


async def _complete(
    ref: PromptReference | ResourceTemplateReference, argument: CompletionArgument, context: object
) -> Completion | None:
    try:
        values = await _ids(argument)
    except TelliError:
        return None
    matching = [value for value in values if value.startswith(argument.value)]
    return Completion(values=matching[:MAX_VALUES], has_more=len(matching) > MAX_VALUES)


def register_completions(server: MCPServer[Any]) -> None:
    server.completion()(_complete)  # type: ignore[no-untyped-call]
