"""Transcripts as paged, cleaned, fenced text."""

from __future__ import annotations

from pydantic import Field

from telli_mcp.client import Call
from telli_mcp.server.budget import page_text
from telli_mcp.server.results import ToolResult
from telli_mcp.server.sanitize import clean, fence

__all__ = ["TranscriptPage", "render_transcript", "transcript_page"]

_SPEAKERS = {"agent": "Agent", "user": "Contact", "contact": "Contact"}


class TranscriptPage(ToolResult):
    call_id: str
    text: str = Field(description="This page of the transcript, fenced as untrusted third-party content")
    offset: int
    next_offset: int | None = Field(description="Pass as offset for the next page; null at the end")
    total_chars: int


def render_transcript(call: Call) -> str:
    """'Agent: …' / 'Contact: …' lines from the structured transcript, else telli's plain transcript."""
    if call.transcript_object:
        lines = []
        for turn in call.transcript_object:
            content = clean(turn.content or "").strip()
            if content:
                lines.append(f"{_SPEAKERS.get(str(turn.role).lower(), str(turn.role).title())}: {content}")
        return "\n".join(lines)
    return clean(call.transcript or "")


def transcript_page(call: Call, *, offset: int, max_chars: int) -> TranscriptPage:
    full = render_transcript(call)
    chunk, next_offset = page_text(full, offset, max_chars)
    text = fence(chunk, source=f"transcript of call {call.call_id}") if chunk else "(no transcript text)"
    return TranscriptPage(call_id=call.call_id, text=text, offset=offset, next_offset=next_offset,
                          total_chars=len(full))
