"""A campaign id derived from what it calls, so running the same leads again resumes the same campaign."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from telli_mcp.campaigns.errors import LeadSourceError

__all__ = ["default_campaign_id", "source_digest"]


def source_digest(leads: Sequence[dict[str, Any]] | None, leads_file: Path | str | None) -> str:
    """sha256 of the inline leads (canonical JSON) or of the file's bytes."""
    if leads is not None:
        return hashlib.sha256(json.dumps(list(leads), sort_keys=True, default=str).encode()).hexdigest()
    try:
        return hashlib.sha256(Path(leads_file or "").read_bytes()).hexdigest()
    except OSError as err:
        raise LeadSourceError(f"cannot read {str(leads_file)!r}: {err.strerror}") from None


def default_campaign_id(agent_id: str, leads: Sequence[dict[str, Any]] | None, leads_file: Path | str | None) -> str:
    """`c-` + 10 hex characters of sha256(agent id + source digest)."""
    seed = f"{agent_id}:{source_digest(leads, leads_file)}"
    return "c-" + hashlib.sha256(seed.encode()).hexdigest()[:10]
