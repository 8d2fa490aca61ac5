"""The status toolset: get_status, which telli this server talks to and which guardrails are in effect."""

import logging
from datetime import UTC

from mcp.server.mcpserver import Context
from pydantic import Field

from telli_mcp._version import __version__
from telli_mcp.client import TelliError
from telli_mcp.server.deps import ServerDeps, deps_of
from telli_mcp.server.results import ToolResult
from telli_mcp.server.risk import Risk, ToolSpec
from telli_mcp.server.surface import Surface, ToolDef
from telli_mcp.toolsets import STATUS

__all__ = ["SURFACE", "StatusResult"]

logger = logging.getLogger(__name__)

MISSING = "missing"


class StatusResult(ToolResult):
    server_version: str
    base_url: str
    sandbox: bool = Field(description="True when talking to the built-in simulator, not the real telli")
    api_key: str = Field(description="Masked key, or 'missing'")
    key_valid: bool | None = Field(description="Result of telli's verify-api-key; null if it could not be checked")
    read_only: bool
    confirm_mode: str = Field(description="auto | elicit | token | off")
    toolsets: list[str]
    tools: list[str]
    webhooks: str = Field(description="Whether telli's call events reach this server")
    now: str = Field(description="Current time: UTC, and the account's clock")


async def _verify(ctx: Context, key: str) -> tuple[str, bool | None]:
    """The masked key and whether telli accepts it (None: telli could not say, e.g. too slow for the deadline)."""
    client = deps_of(ctx).clients.client_for_key(key)
    try:
        return client.masked_key, await client.verify_api_key()
    except TelliError as err:
        logger.warning("verify-api-key failed: %s", type(err).__name__)
        return client.masked_key, None


async def get_status(ctx: Context) -> StatusResult:
    """The telli URL and key in use, whether it works, the guardrails on, and the time."""
    deps = deps_of(ctx)
    key = deps.clients.key_or_none()
    # Without a key there is nothing to verify, but the rest is what a user needs to set one up.
    masked, valid = (MISSING, None) if key is None else await _verify(ctx, key)
    return StatusResult(
        server_version=__version__,
        base_url=deps.backend,
        sandbox=deps.sandbox is not None,
        api_key=masked,
        key_valid=valid,
        read_only=deps.settings.read_only,
        confirm_mode=str(deps.settings.confirm),
        toolsets=sorted(deps.toolsets),
        tools=list(deps.tools),
        webhooks=_webhooks(deps),
        now=_now(deps),
    )


def _now(deps: ServerDeps) -> str:
    """What "this week" or "before 9 tonight" means here: the time in UTC and on the account's clock, which
    telli dials contacts without a timezone on (the simulator's clock in the sandbox)."""
    from zoneinfo import ZoneInfo

    now = deps.now().astimezone(UTC)
    zone = deps.default_timezone
    local = now.astimezone(ZoneInfo(zone))
    return f"{now:%Y-%m-%dT%H:%M:%SZ}; account clock {zone}: {local:%a %Y-%m-%d %H:%M}"


def _webhooks(deps: ServerDeps) -> str:
    account = deps.tenant_or_none()
    if account is None:
        return "no key: no account to receive events for"
    from telli_mcp.database import DatabaseUnavailable
    from telli_mcp.webhooks.health import webhook_health

    try:
        return webhook_health(account, deps.webhook_endpoints(), deps.event_store(), deps.now()).sentence()
    except DatabaseUnavailable as err:  # the rest of the status is what a user needs to see during an outage
        return f"webhook events could not be read: {err}"


SURFACE = Surface(
    STATUS,
    tools=(ToolDef(ToolSpec("get_status", "Connection status", STATUS, Risk.READ, idempotent=True), get_status),),
)
