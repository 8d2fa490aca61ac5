"""One implementation of telli's v1 batch writes: chunking, bounded concurrency and per-item results.

Each endpoint reports per-item results with its own field names (reference §3.6); an `BatchEndpoint` names
them through its `decode` function, and everything else is shared. A chunk that fails as a whole never turns
into "success": its items become `error` when telli definitely rejected it (4xx, or the request never left
the client) and `unknown` when telli may have processed it (5xx, a timeout after sending, an unreadable 200).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from telli_mcp.bounded import chunked
from telli_mcp.client._http import HTTPCore
from telli_mcp.client.errors import (
    InputError,
    ResponseDecodeError,
    TelliAPIError,
    TelliConnectionError,
    TelliError,
)
from telli_mcp.client.models.batch import BatchItemResult, BatchItemStatus, BatchReport

__all__ = [
    "ADD_CONTACTS",
    "REMOVE_FROM_DIALER",
    "SCHEDULE_CALLS",
    "UPDATE_CONTACTS",
    "BatchEndpoint",
    "ChunkCallback",
    "check_concurrency",
    "check_refs",
    "run_batch",
]

ChunkCallback = Callable[[int, int, BatchReport], Awaitable[None]]
"""Awaited after each chunk with (chunks_done, chunks_total, this_chunk_report)."""


class RawBatchItem(BaseModel):
    """A per-item result row as telli sends it; which fields are filled depends on the endpoint."""

    model_config = ConfigDict(extra="allow")

    status: str | None = None
    contact_id: str | None = None
    external_contact_id: str | None = None
    loop_id: str | None = None
    error: str | None = None
    error_message: str | None = None
    error_code: int | str | None = None


_ROWS: TypeAdapter[list[RawBatchItem]] = TypeAdapter(list[RawBatchItem])


def _status(raw: str | None) -> BatchItemStatus:
    if raw == "success":
        return "success"
    if raw == "error":
        return "error"
    return "unknown"


def _int_or_none(value: int | str | None) -> int | None:
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _decode_add(data: Any) -> list[BatchItemResult]:
    rows = _ROWS.validate_python(data["result"] if isinstance(data, dict) else data)
    return [
        BatchItemResult(
            ref=row.external_contact_id or "",
            status=_status(row.status),
            contact_id=row.contact_id,
            error=row.error,
        )
        for row in rows
    ]


def _decode_by_contact_id(data: Any) -> list[BatchItemResult]:
    """update-contacts-batch and remove-from-auto-dialer-batch: `{contact_id, status, error?}`."""
    return [
        BatchItemResult(
            ref=row.contact_id or "", status=_status(row.status), contact_id=row.contact_id, error=row.error
        )
        for row in _ROWS.validate_python(data)
    ]


def _decode_schedule(data: Any) -> list[BatchItemResult]:
    """schedule-calls-batch: `{contact_id, status, loop_id}` or
    `{contact_id, status, error_message, error_code}`."""
    return [
        BatchItemResult(
            ref=row.contact_id or "",
            status=_status(row.status),
            contact_id=row.contact_id,
            loop_id=row.loop_id,
            error=row.error_message,
            error_code=_int_or_none(row.error_code),
        )
        for row in _ROWS.validate_python(data)
    ]


@dataclass(frozen=True, slots=True)
class BatchEndpoint:
    """How one batch endpoint is called and how its per-item results are read."""

    method: str
    path: str
    body_key: str
    """Key of the item list in the request body."""
    limit: int
    """Documented maximum number of items per request."""
    ref_label: str
    """Where an item's key sits in the input, for InputError messages; `{index}` is filled in."""
    decode: Callable[[Any], list[BatchItemResult]] = field(repr=False)


ADD_CONTACTS = BatchEndpoint(
    "POST", "/v1/add-contacts-batch", "contacts", 1000, "contacts[{index}].external_contact_id", _decode_add
)
UPDATE_CONTACTS = BatchEndpoint(
    "PATCH",
    "/v1/update-contacts-batch",
    "contacts",
    1000,
    "contacts[{index}].contact_id",
    _decode_by_contact_id,
)
SCHEDULE_CALLS = BatchEndpoint(
    "POST", "/v1/schedule-calls-batch", "contacts", 50, "contacts[{index}].contact_id", _decode_schedule
)
REMOVE_FROM_DIALER = BatchEndpoint(
    "POST",
    "/v1/remove-from-auto-dialer-batch",
    "contact_ids",
    50,
    "contact_ids[{index}]",
    _decode_by_contact_id,
)


def check_refs(refs: Sequence[str], ref_label: str) -> None:
    """Reject empty and duplicate item keys before anything is sent: results are matched back by key."""
    first_seen: dict[str, int] = {}
    for index, ref in enumerate(refs):
        where = ref_label.format(index=index)
        if not ref:
            raise InputError(where, "must not be empty")
        if ref in first_seen:
            raise InputError(where, f"duplicates item {first_seen[ref]} ({ref!r}); each item may appear once")
        first_seen[ref] = index


def check_concurrency(concurrency: int) -> None:
    """Concurrency must be a positive integer."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InputError("concurrency", f"must be an integer of at least 1, got {concurrency!r}")


def _failed_items(refs: Sequence[str], error: TelliError) -> list[BatchItemResult]:
    # The error knows whether telli may have acted on the chunk (the client's one rule): then each item's fate
    # is unknown, else each surely failed.
    status: BatchItemStatus = "unknown" if error.maybe_processed else "error"
    code = error.status_code if isinstance(error, TelliAPIError) else None
    return [BatchItemResult(ref=ref, status=status, error=str(error), error_code=code) for ref in refs]


@dataclass(slots=True)
class _Chunk:
    refs: list[str]
    payloads: list[Any]


async def _send_chunk(http: HTTPCore, endpoint: BatchEndpoint, chunk: _Chunk) -> tuple[list[BatchItemResult], bool]:
    """The chunk's per-item results, and whether the chunk failed as a whole."""
    try:
        response = await http.request(endpoint.method, endpoint.path, json={endpoint.body_key: chunk.payloads})
        decoded = endpoint.decode(response.data)
    except (TelliAPIError, TelliConnectionError, ResponseDecodeError) as exc:
        return _failed_items(chunk.refs, exc), True
    except (ValidationError, KeyError, TypeError):
        error = ResponseDecodeError(f"telli's response to {endpoint.method} {endpoint.path} has an unexpected shape.")
        return _failed_items(chunk.refs, error), True
    by_ref = {item.ref: item for item in decoded}
    missing = "telli's response did not mention this item; it may or may not have been applied"
    return [by_ref.get(ref) or BatchItemResult(ref=ref, status="unknown", error=missing) for ref in chunk.refs], False


@dataclass(slots=True)
class _BatchRun:
    http: HTTPCore
    endpoint: BatchEndpoint
    chunks: list[_Chunk]
    on_chunk: ChunkCallback | None
    stop_on_error: bool
    results: list[list[BatchItemResult] | None] = field(default_factory=list)
    next_index: int = 0
    done: int = 0
    stopped: bool = False

    async def worker(self) -> None:
        while not self.stopped and self.next_index < len(self.chunks):
            index = self.next_index
            self.next_index += 1
            items, failed = await _send_chunk(self.http, self.endpoint, self.chunks[index])
            self.results[index] = items
            self.done += 1
            if failed and self.stop_on_error:
                self.stopped = True
            if self.on_chunk is not None:
                await self.on_chunk(self.done, len(self.chunks), BatchReport(items=items, requests_sent=1))

    def report(self) -> BatchReport:
        items: list[BatchItemResult] = []
        for chunk, result in zip(self.chunks, self.results, strict=True):
            items.extend(result if result is not None else _not_sent(chunk.refs))
        return BatchReport(items=items, requests_sent=self.next_index)


def _not_sent(refs: Sequence[str]) -> list[BatchItemResult]:
    reason = "not sent because an earlier chunk failed"
    return [BatchItemResult(ref=ref, status="not_sent", error=reason) for ref in refs]


async def run_batch(
    http: HTTPCore,
    endpoint: BatchEndpoint,
    refs: Sequence[str],
    payloads: Sequence[Any],
    *,
    concurrency: int = 1,
    on_chunk: ChunkCallback | None = None,
    stop_on_error: bool = True,
) -> BatchReport:
    """Send `payloads` in chunks of `endpoint.limit`, at most `concurrency` chunks at a time.

    `refs[i]` is the key telli echoes for `payloads[i]`. With `stop_on_error`, a chunk failing as a whole
    stops the batch: chunks already in flight finish, the rest are reported as `not_sent`.

    Raises:
        InputError: empty or duplicate keys, or an invalid concurrency; nothing was sent.
    """
    check_concurrency(concurrency)
    check_refs(refs, endpoint.ref_label)
    chunks = [
        _Chunk(list(ref_chunk), list(payload_chunk))
        for ref_chunk, payload_chunk in zip(
            chunked(refs, endpoint.limit), chunked(payloads, endpoint.limit), strict=True
        )
    ]
    run = _BatchRun(http, endpoint, chunks, on_chunk, stop_on_error, results=[None] * len(chunks))
    try:
        async with anyio.create_task_group() as group:
            for _ in range(min(concurrency, len(chunks))):
                group.start_soon(run.worker)
    except BaseExceptionGroup as group_error:
        # Surface e.g. the caller's own on_chunk failure as itself, not wrapped in a group.
        if len(group_error.exceptions) == 1:
            raise group_error.exceptions[0] from None
        raise
    return run.report()
