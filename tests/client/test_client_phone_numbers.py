"""Phone numbers (v1, camelCase bodies) against the simulator."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from telli_mcp.client import PhoneNumberImport, TelliClient
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator

pytestmark = pytest.mark.anyio

SIP_IMPORT = PhoneNumberImport(
    phone_number="+12025550142",
    termination_uri="sip:trunk.example.com",
    auth_username="trunk-user",
    auth_password=SecretStr("sip-secret-42"),
)


async def test_active_numbers_are_listed(telli: TelliClient, sim: TelliSimulator) -> None:
    record = sim.account(TEST_API_KEY).add_phone_number("+493012345678")
    [number] = (await telli.phone_numbers.list()).items
    assert (number.id, number.phone_number, number.in_outbound_pool) == (record.id, "+493012345678", True)


async def test_an_imported_sip_number_is_returned_and_listed(telli: TelliClient, sim: TelliSimulator) -> None:
    imported = await telli.phone_numbers.import_sip(SIP_IMPORT)
    assert imported.phone_number == "+12025550142"
    assert [number.id for number in (await telli.phone_numbers.list()).items] == [imported.id]
    [request] = sim.requests_to("POST", "/v1/phone-numbers/import")
    assert request.body["authUsername"] == "trunk-user"
    assert "sip-secret-42" not in repr(SIP_IMPORT)


async def test_replacing_a_number_returns_the_change(telli: TelliClient) -> None:
    imported = await telli.phone_numbers.import_sip(SIP_IMPORT)
    change = await telli.phone_numbers.replace(imported.id)
    assert change.id is not None
    assert change.id != imported.id
    assert [number.id for number in (await telli.phone_numbers.list()).items] == [change.id]


async def test_a_deleted_number_is_no_longer_listed(telli: TelliClient) -> None:
    imported = await telli.phone_numbers.import_sip(SIP_IMPORT)
    await telli.phone_numbers.delete(imported.id)
    assert imported.id not in {number.id for number in (await telli.phone_numbers.list()).items}
