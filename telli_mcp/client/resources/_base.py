"""The base of resource classes: each holds the shared request core."""

from __future__ import annotations

from telli_mcp.client._http import HTTPCore

__all__ = ["Resource"]


class Resource:
    """A group of endpoints; methods validate their input, build the path and delegate to `HTTPCore`."""

    def __init__(self, http: HTTPCore) -> None:
        self._http = http
