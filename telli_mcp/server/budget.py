"""Response size budgets: keep every tool result small enough for the model's context.

Lists are cut to a byte budget with an explicit note and a cursor to the rest (see `paging`); long text is
paged by characters with the offset to continue from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from pydantic import BaseModel

__all__ = ["MAX_RESULT_BYTES", "fit_to_budget", "page_text"]

MAX_RESULT_BYTES = 12_000
"""Hard upper bound for the JSON of one list result's items (about 3,000 tokens)."""

ModelT = TypeVar("ModelT", bound=BaseModel)


def fit_to_budget(items: Sequence[ModelT], budget: int = MAX_RESULT_BYTES) -> tuple[list[ModelT], int]:
    """Return the leading items whose JSON fits in `budget` bytes, and how many were left out.

    At least one item is always returned, so a caller can make progress with any budget.
    """
    kept: list[ModelT] = []
    used = 0
    for item in items:
        size = len(item.model_dump_json())
        if kept and used + size > budget:
            break
        kept.append(item)
        used += size
    return kept, len(items) - len(kept)


def page_text(text: str, offset: int, max_chars: int) -> tuple[str, int | None]:
    """Slice `text` from `offset`; return the chunk and the next offset (None at the end)."""
    chunk = text[offset : offset + max_chars]
    end = offset + len(chunk)
    return chunk, (end if end < len(text) else None)
