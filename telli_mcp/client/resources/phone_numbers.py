"""Phone numbers: `/v1/phone-numbers` (camelCase bodies)."""

from __future__ import annotations

from telli_mcp.client import _validate
from telli_mcp.client.models.common import Page
from telli_mcp.client.models.phone_numbers import PhoneNumber, PhoneNumberChange, PhoneNumberImport
from telli_mcp.client.resources._base import Resource

__all__ = ["PhoneNumbers"]


class PhoneNumbers(Resource):
    """The account's phone numbers."""

    async def list(self) -> Page[PhoneNumber]:
        """All active phone numbers (a single, unpaginated page: `next_cursor` is always None).

        A number in an unreadable shape is left out of `items` and listed in `invalid_items`.
        """
        return (await self._http.request("GET", "/v1/phone-numbers")).parse(Page[PhoneNumber])

    async def import_sip(self, params: PhoneNumberImport) -> PhoneNumber:
        """Import a number reached through your SIP trunk. Never retried automatically."""
        response = await self._http.request("POST", "/v1/phone-numbers/import", json=params.to_wire())
        return response.parse(PhoneNumber)

    async def replace(self, phone_number_id: str) -> PhoneNumberChange:
        """Swap a number for a new one; the old one keeps receiving callbacks for 30 days.

        telli documents no response body: a 2xx with an empty, plain-text or JSON body is success.
        `replaced_id` is always the id passed here; the other fields are filled only when telli's answer
        carries them.
        """
        number_id = _validate.uuid_id(phone_number_id, "phone_number_id")
        response = await self._http.request(
            "POST", f"/v1/phone-numbers/{number_id}/replace", json={}, undocumented_body=True
        )
        change = response.parse(PhoneNumberChange) if response.data is not None else PhoneNumberChange()
        change.replaced_id = number_id
        return change

    async def delete(self, phone_number_id: str) -> None:
        """Schedule a number for deletion; it keeps receiving callbacks for 30 days.

        telli documents no response body: a 2xx with an empty, plain-text or JSON body is success.
        """
        path = f"/v1/phone-numbers/{_validate.uuid_id(phone_number_id, 'phone_number_id')}"
        await self._http.request("DELETE", path, undocumented_body=True)
