"""telli's API address, and how any base URL may be shown (never with the user, password or query it carries).

A leaf module (it imports nothing of telli_mcp): the settings, the client and every report share it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["DEFAULT_BASE_URL", "public_url"]

DEFAULT_BASE_URL = "https://api.telli.com"


def public_url(url: str) -> str:
    """`url` without user, password, query or fragment: whatever a proxy URL carries stays out of reports."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}".rstrip("/")
