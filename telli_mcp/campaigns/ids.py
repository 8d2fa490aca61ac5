"""A campaign id derived from what it calls, so running the same leads again resumes the same campaign."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

__all__ = ["CAMPAIGN_ID_PATTERN", "default_campaign_id", "source_digest"]

CAMPAIGN_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"


def source_digest(leads: Sequence[dict[str, Any]] | None, file_bytes: bytes | None) -> str:
    """sha256 of the inline leads (canonical JSON) or of the lead file's bytes (read by `lead_files`)."""
    if leads is not None:
        return hashlib.sha256(json.dumps(list(leads), sort_keys=True, default=str).encode()).hexdigest()
    return hashlib.sha256(file_bytes or b"").hexdigest()


def default_campaign_id(agent_id: str, leads: Sequence[dict[str, Any]] | None, file_bytes: bytes | None) -> str:
    """`c-` + 10 hex characters of sha256(agent id + source digest)."""
    seed = f"{agent_id}:{source_digest(leads, file_bytes)}"
    return "c-" + hashlib.sha256(seed.encode()).hexdigest()[:10]
