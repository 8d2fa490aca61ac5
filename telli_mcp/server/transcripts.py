"""Transcripts as paged, cleaned, fenced text: one line per turn, so only telli's turns start a speaker line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from telli_mcp.server.budget import page_text
from telli_mcp.server.results import ToolResult
from telli_mcp.text import block, fence, inline

if TYPE_CHECKING:
    from telli_mcp.client import Call

__all__ = ["CONTINUED", "TranscriptPage", "render_transcript", "transcript_page"]

_SPEAKERS = {"agent": "Agent", "user": "Contact", "contact": "Contact"}
_ROLE_CHARS = 20
CONTINUED = "… "
"""Put before a page that starts in the middle of a line, so the page's first line cannot pass for a turn of
its own (a caller who says "Agent: ..." is quoted inside their own line, and a page may begin just there)."""


class TranscriptPage(ToolResult):
    call_id: str
    text: str = Field(description="This page of the transcript, fenced as untrusted third-party content")
    offset: int
    next_offset: int | None = Field(description="Pass as offset for the next page; null at the end")
    total_chars: int


def _speaker(role: object) -> str:
    # Only telli's own role field names the speaker; a role we do not know is labelled as such, so no
    # spelling of it can pass for "Agent" or "Contact".
    name = inline(str(role))
    known = _SPEAKERS.get(name.lower())
    return known if known is not None else f"Other ({name[:_ROLE_CHARS]})"


def render_transcript(call: Call) -> str:
    """'Agent: …' / 'Contact: …' lines from the structured transcript, else telli's plain transcript.

    Each turn is cleaned to one line: a line break, U+2028/U+2029 or similar inside what someone said becomes a
    space, so a turn cannot start a line that looks like another speaker's.
    """
    if call.transcript_object:
        lines = []
        for turn in call.transcript_object:
            content = inline(turn.content or "")
            if content:
                lines.append(f"{_speaker(turn.role)}: {content}")
        return "\n".join(lines)
    return block(call.transcript or "")


def transcript_page(call: Call, *, offset: int, max_chars: int) -> TranscriptPage:
    full = render_transcript(call)
    chunk, next_offset = page_text(full, offset, max_chars)
    if chunk and offset > 0 and full[offset - 1] != "\n":
        chunk = CONTINUED + chunk
    text = fence(chunk, source=f"transcript of call {call.call_id}") if chunk else "(no transcript text)"
    return TranscriptPage(
        call_id=call.call_id, text=text, offset=offset, next_offset=next_offset, total_chars=len(full)
    )
