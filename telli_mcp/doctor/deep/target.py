"""Where the deep check sends its reads: the user's telli account (from the settings) or the sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx2
from pydantic import SecretStr

from telli_mcp.config import DEFAULT_BASE_URL, Settings

__all__ = ["Target", "public_url", "target_for"]


@dataclass(frozen=True)
class Target:
    api_key: SecretStr
    label: str
    """What the report names as checked: `public_url(base_url)`, or the sandbox."""
    base_url: str = DEFAULT_BASE_URL
    timeout: float = 30.0
    transport: httpx2.AsyncBaseTransport | None = None
    """None: the network; the sandbox and tests pass the simulator's in-process transport."""


def target_for(settings: Settings) -> Target:
    if settings.sandbox:
        from telli_mcp.sandbox import DEMO_API_KEY, Sandbox

        return Target(SecretStr(DEMO_API_KEY), "the sandbox simulator", transport=Sandbox().simulator.transport())
    key = settings.api_key if settings.api_key is not None else SecretStr("")
    return Target(key, public_url(settings.api_base_url), settings.api_base_url, settings.timeout_seconds)


def public_url(url: str) -> str:
    """`url` without user, password, query or fragment: whatever a proxy URL carries stays out of the report."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}".rstrip("/")
