"""Where the deep check sends its reads: whatever backend the settings chose (see `telli_mcp.backend`)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx2
from pydantic import SecretStr

from telli_mcp.backend import Backend
from telli_mcp.urls import DEFAULT_BASE_URL

__all__ = ["Target", "target_for"]


@dataclass(frozen=True)
class Target:
    api_key: SecretStr
    label: str
    """What the report names as checked: the base URL without credentials, or the sandbox."""
    base_url: str = DEFAULT_BASE_URL
    timeout: float = 30.0
    transport: httpx2.AsyncBaseTransport | None = None
    """None: the network; the sandbox and tests pass the simulator's in-process transport."""


def target_for(backend: Backend) -> Target:
    key = backend.api_key if backend.api_key is not None else SecretStr("")
    settings = backend.settings
    return Target(key, backend.label, settings.api_base_url, settings.timeout_seconds, backend.transport)
