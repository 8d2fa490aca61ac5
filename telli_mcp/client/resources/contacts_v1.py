"""v1 contacts (deprecated by telli but operational), including the batch endpoints v2 does not have yet."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from telli_mcp.bounded import chunked
from telli_mcp.client import _validate
from telli_mcp.client.batching import (
    ADD_CONTACTS,
    UPDATE_CONTACTS,
    ChunkCallback,
    check_refs,
    run_batch,
)
from telli_mcp.client.errors import ResponseDecodeError
from telli_mcp.client.models.batch import BatchItemResult, BatchReport, ContactBatchResult
from telli_mcp.client.models.common import ResponseModel
from telli_mcp.client.models.contacts import ContactV1, ContactV1Create, ContactV1Update
from telli_mcp.client.resources._base import Resource

__all__ = ["ContactsV1"]

GET_BATCH_LIMIT = 1000
_GET_BATCH_PATH = "/v1/get-contacts-batch"


class _ContactIdResponse(ResponseModel):
    contact_id: str


class _GetBatchRow(BaseModel):
    """A get-contacts-batch row: `{status, contact}` or `{status, error, contactId}` (camelCase there)."""

    model_config = ConfigDict(extra="allow")

    status: str | None = None
    contact: ContactV1 | None = None
    error: str | None = None
    contactId: str | None = None


_GET_BATCH_ROWS: TypeAdapter[list[_GetBatchRow]] = TypeAdapter(list[_GetBatchRow])


class ContactsV1(Resource):
    """The v1 contact endpoints: dialer status fields (`status`, `call_attempts`, ...) and batches."""

    async def create(self, params: ContactV1Create) -> str:
        """Create a contact and return its telli contact id."""
        response = await self._http.request("POST", "/v1/add-contact", json=params.to_wire())
        return response.parse(_ContactIdResponse).contact_id

    async def get(self, contact_id: str) -> ContactV1:
        """The full v1 contact, including its dialer status."""
        path = f"/v1/get-contact/{_validate.uuid_id(contact_id, 'contact_id')}"
        return (await self._http.request("GET", path)).parse(ContactV1)

    async def get_by_external_id(self, external_id: str) -> ContactV1:
        """A contact by your own id; telli returns a subset (ids, timestamps, dialer counters)."""
        path = f"/v1/get-contact-by-external-id/{_validate.path_segment(external_id, 'external_id')}"
        return (await self._http.request("GET", path)).parse(ContactV1)

    async def update(self, params: ContactV1Update) -> str:
        """Change the fields set on `params` and return the contact id."""
        response = await self._http.request("PATCH", "/v1/update-contact", json=params.to_wire())
        return response.parse(_ContactIdResponse).contact_id

    async def delete(self, contact_id: str) -> None:
        """Permanently delete a contact and its personal data.

        telli documents no response body: a 2xx with an empty, plain-text or JSON body is success.
        """
        path = f"/v1/delete-contact/{_validate.uuid_id(contact_id, 'contact_id')}"
        await self._http.request("DELETE", path, undocumented_body=True)

    async def add_batch(
        self,
        contacts: Sequence[ContactV1Create],
        *,
        concurrency: int = 1,
        on_chunk: ChunkCallback | None = None,
        stop_on_error: bool = True,
    ) -> BatchReport:
        """Create contacts in chunks of 1000; results are keyed by `external_contact_id`. Never retried."""
        return await run_batch(
            self._http,
            ADD_CONTACTS,
            [contact.external_contact_id for contact in contacts],
            [contact.to_wire() for contact in contacts],
            concurrency=concurrency,
            on_chunk=on_chunk,
            stop_on_error=stop_on_error,
        )

    async def update_batch(
        self,
        contacts: Sequence[ContactV1Update],
        *,
        concurrency: int = 1,
        on_chunk: ChunkCallback | None = None,
        stop_on_error: bool = True,
    ) -> BatchReport:
        """Update contacts in chunks of 1000; results are keyed by `contact_id`."""
        return await run_batch(
            self._http,
            UPDATE_CONTACTS,
            [contact.contact_id for contact in contacts],
            [contact.to_wire() for contact in contacts],
            concurrency=concurrency,
            on_chunk=on_chunk,
            stop_on_error=stop_on_error,
        )

    async def get_batch(self, contact_ids: Sequence[str]) -> ContactBatchResult:
        """Fetch many contacts in chunks of 1000; ids telli cannot return are listed in `missing`.

        A read sent as POST, so it is retried like a GET; a chunk that still fails raises.
        """
        ids = [_validate.uuid_id(value, f"contact_ids[{index}]") for index, value in enumerate(contact_ids)]
        check_refs(ids, "contact_ids[{index}]")
        result = ContactBatchResult()
        for chunk in chunked(ids, GET_BATCH_LIMIT):
            response = await self._http.request("POST", _GET_BATCH_PATH, json={"contact_ids": list(chunk)})
            result.requests_sent += 1
            _merge_get_batch(result, chunk, _get_batch_rows(response.data))
        return result


def _get_batch_rows(data: Any) -> list[_GetBatchRow]:
    try:
        return _GET_BATCH_ROWS.validate_python(data)
    except ValidationError:
        raise ResponseDecodeError(
            f"telli's response to POST {_GET_BATCH_PATH} is not the documented list of results.",
            path=_GET_BATCH_PATH,
            method="POST",
        ) from None


def _merge_get_batch(result: ContactBatchResult, chunk: Sequence[str], rows: list[_GetBatchRow]) -> None:
    found = {row.contact.contact_id: row.contact for row in rows if row.status == "success" and row.contact}
    errors = {row.contactId: row.error for row in rows if row.contactId and row.status != "success"}
    for contact_id in chunk:
        if contact_id in found:
            result.found.append(found[contact_id])
        else:
            reason = errors.get(contact_id) or "telli did not return this contact"
            result.missing.append(BatchItemResult(ref=contact_id, status="error", contact_id=contact_id, error=reason))
