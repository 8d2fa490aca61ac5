"""v2 contacts: `/v2/contacts` and `/v2/external/contacts`."""

from __future__ import annotations

from collections.abc import AsyncIterator

from telli_mcp.client import _validate
from telli_mcp.client.models.common import Page
from telli_mcp.client.models.contacts import Contact, ContactCreate, ContactUpdate
from telli_mcp.client.pagination import InvalidItemCallback, iterate_pages
from telli_mcp.client.resources._base import Resource

__all__ = ["Contacts"]


class Contacts(Resource):
    """Create, read, change and delete contacts (v2 API)."""

    async def create(self, params: ContactCreate) -> Contact:
        """Create a contact (`POST /v2/contacts`, 201). A duplicate external id raises ConflictError."""
        return (await self._http.request("POST", "/v2/contacts", json=params.to_wire())).parse(Contact)

    async def get(self, contact_id: str) -> Contact:
        """Fetch a contact by telli id; NotFoundError when it does not exist or was deleted."""
        path = f"/v2/contacts/{_validate.uuid_id(contact_id, 'contact_id')}"
        return (await self._http.request("GET", path)).parse(Contact)

    async def get_by_external_id(self, external_id: str) -> Contact:
        """Fetch a contact by your own id (URL-encoded into the path)."""
        path = f"/v2/external/contacts/{_validate.path_segment(external_id, 'external_id')}"
        return (await self._http.request("GET", path)).parse(Contact)

    async def list(self, *, limit: int = 50, cursor: str | None = None) -> Page[Contact]:
        """One page of contacts (`limit` 1-100); pass `next_cursor` back as `cursor` for the next page."""
        params: dict[str, str | int] = {"limit": _validate.page_limit(limit)}
        if cursor is not None:
            params["cursor"] = cursor
        return (await self._http.request("GET", "/v2/contacts", params=params)).parse(Page[Contact])

    def iterate(self, *, page_size: int = 100, on_invalid: InvalidItemCallback | None = None) -> AsyncIterator[Contact]:
        """Every contact, fetching pages of `page_size` as needed.

        Contacts telli sent in an unreadable shape are skipped and passed to `on_invalid` (logged when None).
        """
        _validate.page_limit(page_size, "page_size")
        return iterate_pages(lambda cursor: self.list(limit=page_size, cursor=cursor), on_invalid=on_invalid)

    async def update(self, contact_id: str, params: ContactUpdate) -> Contact:
        """Change the fields set on `params` (`PATCH`); properties are merged, a None value clears one."""
        path = f"/v2/contacts/{_validate.uuid_id(contact_id, 'contact_id')}"
        return (await self._http.request("PATCH", path, json=params.to_wire())).parse(Contact)

    async def replace(self, contact_id: str, params: ContactCreate) -> Contact:
        """Replace the whole contact (`PUT`); fields not given are cleared."""
        path = f"/v2/contacts/{_validate.uuid_id(contact_id, 'contact_id')}"
        return (await self._http.request("PUT", path, json=params.to_wire())).parse(Contact)

    async def delete(self, contact_id: str) -> None:
        """Delete the contact and anonymise its personal data (204). This cannot be undone."""
        await self._http.request("DELETE", f"/v2/contacts/{_validate.uuid_id(contact_id, 'contact_id')}")
