"""Results of the v1 batch endpoints, normalised to one per-item shape."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from telli_mcp.client.models.contacts import ContactV1

__all__ = ["BatchItemResult", "BatchItemStatus", "BatchReport", "ContactBatchResult"]

BatchItemStatus = Literal["success", "error", "unknown", "not_sent"]


class BatchItemResult(BaseModel):
    """What happened to one item of a batch.

    `status` is `success` or `error` when telli reported it; `unknown` when the request may have been
    processed but no result could be read (5xx, timeout after sending, missing from the response); `not_sent`
    when the item's chunk was never sent because an earlier chunk failed.
    """

    ref: str
    """The input key of the item: `external_contact_id` for add-contacts, else `contact_id`."""
    status: BatchItemStatus
    """success, error, unknown or not_sent."""
    contact_id: str | None = None
    """telli contact id, when known."""
    loop_id: str | None = None
    """Dialer loop id (schedule-calls)."""
    error: str | None = None
    """Why the item failed or is unknown."""
    error_code: int | None = None
    """telli's per-item error code, or the HTTP status of a failed chunk."""


class BatchReport(BaseModel):
    """Outcome of a batch write, one `BatchItemResult` per input item in input order."""

    items: list[BatchItemResult] = Field(default_factory=list)
    """Per-item results."""
    requests_sent: int = 0
    """Number of chunk requests sent."""

    def _with_status(self, status: BatchItemStatus) -> list[BatchItemResult]:
        return [item for item in self.items if item.status == status]

    @property
    def succeeded(self) -> list[BatchItemResult]:
        """Items telli reported as done."""
        return self._with_status("success")

    @property
    def failed(self) -> list[BatchItemResult]:
        """Items telli definitely rejected."""
        return self._with_status("error")

    @property
    def unknown(self) -> list[BatchItemResult]:
        """Items that may or may not have been applied; check before resending."""
        return self._with_status("unknown")

    @property
    def not_sent(self) -> list[BatchItemResult]:
        """Items never sent; safe to send again."""
        return self._with_status("not_sent")


class ContactBatchResult(BaseModel):
    """Outcome of `get_batch`: the contacts found and the ids telli could not return."""

    found: list[ContactV1] = Field(default_factory=list)
    """Contacts returned, in input order."""
    missing: list[BatchItemResult] = Field(default_factory=list)
    """One `error` item per id telli did not return, with its message."""
    requests_sent: int = 0
    """Number of chunk requests sent."""
