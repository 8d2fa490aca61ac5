"""Phone numbers: `/v1/phone-numbers` (camelCase bodies)."""

from __future__ import annotations

from telli_mcp.client import _validate
from telli_mcp.client.models.common import Page
from telli_mcp.client.models.phone_numbers import PhoneNumber, PhoneNumberChange, PhoneNumberImport
from telli_mcp.client.resources._base import Resource

__all__ = ["PhoneNumbers"]


class PhoneNumbers(Resource):
    """The account's phone numbers."""

    async def list(self) -> list[PhoneNumber]:
        """All active phone numbers (a single, unpaginated list)."""
        return (await self._http.request("GET", "/v1/phone-numbers")).parse(Page[PhoneNumber]).items

    async def import_sip(self, params: PhoneNumberImport) -> PhoneNumber:
        """Import a number reached through your SIP trunk. Never retried automatically."""
        response = await self._http.request("POST", "/v1/phone-numbers/import", json=params.to_wire())
        return response.parse(PhoneNumber)

    async def replace(self, phone_number_id: str) -> PhoneNumberChange:
        """Swap a number for a new one; the old one keeps receiving callbacks for 30 days."""
        path = f"/v1/phone-numbers/{_validate.uuid_id(phone_number_id, 'phone_number_id')}/replace"
        response = await self._http.request("POST", path, json={})
        return response.parse(PhoneNumberChange) if response.data is not None else PhoneNumberChange()

    async def delete(self, phone_number_id: str) -> None:
        """Schedule a number for deletion; it keeps receiving callbacks for 30 days."""
        path = f"/v1/phone-numbers/{_validate.uuid_id(phone_number_id, 'phone_number_id')}"
        await self._http.request("DELETE", path)
