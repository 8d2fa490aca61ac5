"""What of a key may be shown: a masked key, and a key's fingerprint.

Everything that reports on a key (the client's own errors and repr, `get_status`, the doctor, the campaign
ledger's tenants, HTTP sessions) uses these, so a key never reaches a log, an answer or a file. (URLs: see
`telli_mcp.urls.public_url`.)
"""

from __future__ import annotations

import hashlib

__all__ = ["key_fingerprint", "mask_key"]


def mask_key(key: str) -> str:
    """A recognisable but harmless form of an API key: first 3 + "…" + last 4 characters, or "****"."""
    if len(key) >= 12:
        return f"{key[:3]}…{key[-4:]}"
    return "****"


def key_fingerprint(api_key: str) -> str:
    """A stable, non-reversible label for a key (never the key itself): the tenant of ledgers and sessions."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]
