"""Calls and the auto-dialer (v1): schedule, initiate, remove, read calls."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from telli_mcp.client import _validate
from telli_mcp.client.batching import REMOVE_FROM_DIALER, SCHEDULE_CALLS, ChunkCallback, run_batch
from telli_mcp.client.errors import InputError
from telli_mcp.client.models.batch import BatchReport
from telli_mcp.client.models.calls import (
    Call,
    CallDetails,
    InitiateCall,
    InitiateResult,
    ScheduleCall,
    ScheduleResult,
)
from telli_mcp.client.models.common import Page
from telli_mcp.client.pagination import InvalidItemCallback, iterate_pages
from telli_mcp.client.resources._base import Resource

__all__ = ["Calls"]


class Calls(Resource):
    """Place contacts into the auto-dialer, call them right away, and read the resulting calls.

    `schedule`, `schedule_batch` and `initiate` lead to real phone calls; none of them is ever retried
    automatically, because telli has no idempotency key and a repeat could dial a person twice.
    """

    async def schedule(self, params: ScheduleCall) -> ScheduleResult:
        """Put a contact into the auto-dialer loop; telli calls within the dialer window and retries."""
        response = await self._http.request("POST", "/v1/schedule-call", json=params.to_wire())
        return response.parse(ScheduleResult)

    async def schedule_batch(
        self,
        items: Sequence[ScheduleCall],
        *,
        concurrency: int = 1,
        on_chunk: ChunkCallback | None = None,
        stop_on_error: bool = True,
    ) -> BatchReport:
        """Schedule many contacts in chunks of 50; results are keyed by `contact_id`."""
        return await run_batch(
            self._http,
            SCHEDULE_CALLS,
            [item.contact_id for item in items],
            [item.to_wire() for item in items],
            concurrency=concurrency,
            on_chunk=on_chunk,
            stop_on_error=stop_on_error,
        )

    async def initiate(self, params: InitiateCall) -> InitiateResult:
        """Call a contact immediately (telli recommends `schedule` instead).

        telli documents no response body: a 2xx with an empty, plain-text or JSON body is success.
        `contact_id` is the id sent when telli's answer does not carry it (`status` and `call_id` are None
        then).
        """
        response = await self._http.request("POST", "/v1/initiate-call", json=params.to_wire(), undocumented_body=True)
        result = response.parse(InitiateResult) if response.data is not None else InitiateResult()
        if result.contact_id is None:
            result.contact_id = params.contact_id
        return result

    async def remove_from_dialer(self, contact_id: str) -> None:
        """Stop the auto-dialer for a contact; BadRequestError (400) when it is not in a dialer queue.

        telli documents no response body: a 2xx with an empty, plain-text or JSON body is success.
        """
        body = {"contact_id": _validate.uuid_id(contact_id, "contact_id")}
        await self._http.request("POST", "/v1/remove-from-auto-dialer", json=body, undocumented_body=True)

    async def remove_from_dialer_batch(
        self,
        contact_ids: Sequence[str],
        *,
        concurrency: int = 1,
        on_chunk: ChunkCallback | None = None,
        stop_on_error: bool = True,
    ) -> BatchReport:
        """Stop the auto-dialer for many contacts, in chunks of 50."""
        ids = [_validate.uuid_id(value, f"contact_ids[{index}]") for index, value in enumerate(contact_ids)]
        return await run_batch(
            self._http,
            REMOVE_FROM_DIALER,
            ids,
            ids,
            concurrency=concurrency,
            on_chunk=on_chunk,
            stop_on_error=stop_on_error,
        )

    async def get(self, call_id: str) -> CallDetails:
        """A call with transcript and analysis, plus the contact when telli includes it."""
        path = f"/v1/get-call/{_validate.uuid_id(call_id, 'call_id')}"
        return (await self._http.request("GET", path)).parse(CallDetails)

    async def list(
        self,
        *,
        contact_id: str | None = None,
        agent_id: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Call]:
        """One page of calls, newest first, optionally for one contact or one agent (not both).

        A call in an unreadable shape is left out of `items` and listed in `invalid_items`.
        """
        params: dict[str, str | int] = {"limit": _validate.page_limit(limit)}
        if contact_id is not None and agent_id is not None:
            raise InputError("agent_id", "filter by contact_id or by agent_id, not both")
        if contact_id is not None:
            params["contact_id"] = _validate.uuid_id(contact_id, "contact_id")
        if agent_id is not None:
            params["agent_id"] = _validate.agent_id(agent_id)
        if cursor is not None:
            params["cursor"] = cursor
        return (await self._http.request("GET", "/v1/list-calls", params=params)).parse(Page[Call])

    def iterate(
        self,
        *,
        contact_id: str | None = None,
        agent_id: str | None = None,
        page_size: int = 100,
        on_invalid: InvalidItemCallback | None = None,
    ) -> AsyncIterator[Call]:
        """Every matching call, newest first, fetching pages of `page_size` as needed.

        Calls telli sent in an unreadable shape are skipped and passed to `on_invalid` (logged when None).
        """
        _validate.page_limit(page_size, "page_size")
        if contact_id is not None and agent_id is not None:
            raise InputError("agent_id", "filter by contact_id or by agent_id, not both")
        return iterate_pages(
            lambda cursor: self.list(contact_id=contact_id, agent_id=agent_id, limit=page_size, cursor=cursor),
            on_invalid=on_invalid,
        )
