"""What stops a campaign from dialling a number: the account's do-not-call list, as the engine sees it.

The engine does not know where the list lives (`telli_mcp.do_not_call` keeps it; the composition root hands the
engine the caller's tenant view). It asks twice: when a run is planned (the dry run and the confirmation list
the numbers it will skip) and right before each schedule request (a number added while the campaign runs, or
between a stop and a resume, is never sent).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

__all__ = ["DialBlock"]


class DialBlock(Protocol):
    def blocked(self, numbers: Collection[str]) -> set[str]:
        """Which of these E.164 numbers must not be dialled."""
        ...
