"""v1 phone-number endpoints #16–#19 (§2.4, camelCase bodies) and verify-api-key (#20)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from .endpoint import ApiRequest, Backend, json_response, make_route
from .errors import ApiError
from .records import PhoneNumber
from .store import Account
from .validation import check_e164
from .views import phone_number_view

__all__ = ["routes"]


def routes(backend: Backend) -> list[Route]:
    def route(path: str, method: str, handler: Any) -> Route:
        return make_route(path, method, handler, version="v1", backend=backend)

    return [
        route("/v1/verify-api-key", "GET", verify_api_key),
        route("/v1/phone-numbers", "GET", list_numbers),
        route("/v1/phone-numbers/import", "POST", import_number),
        route("/v1/phone-numbers/{number_id}/replace", "POST", replace),
        route("/v1/phone-numbers/{number_id}", "DELETE", delete),
    ]


async def verify_api_key(req: ApiRequest) -> Response:
    return json_response({"message": "API key is valid"})


async def list_numbers(req: ApiRequest) -> Response:
    return json_response({"data": [phone_number_view(number) for number in req.account.active_phone_numbers()]})


async def import_number(req: ApiRequest) -> Response:
    body = await req.body()
    phone_number = check_e164(body.required_str("phoneNumber"), "phoneNumber")
    termination_uri = body.required_str("terminationUri")
    username = body.required_str("authUsername")
    password = body.required_str("authPassword")
    if req.account.owns_number(phone_number):
        raise ApiError(409, "Phone number already exists")  # [I]
    record = req.account.add_phone_number(phone_number)
    record.termination_uri, record.auth_username, record.auth_password = termination_uri, username, password
    return json_response(phone_number_view(record), 201)  # [I] 201 (docs: "imported successfully")


async def replace(req: ApiRequest) -> Response:
    """[I] The old number leaves the active list (it takes callbacks for 30 more days); a new one arrives."""
    old = _active_number(req)
    old.active = False
    new = req.account.add_phone_number(_replacement_for(req.account, old), in_outbound_pool=old.in_outbound_pool)
    new.termination_uri, new.auth_username, new.auth_password = (
        old.termination_uri,
        old.auth_username,
        old.auth_password,
    )
    return json_response(phone_number_view(new))


async def delete(req: ApiRequest) -> Response:
    _active_number(req).active = False
    return json_response({"message": "Phone number scheduled for deletion"})  # [I]


def _active_number(req: ApiRequest) -> PhoneNumber:
    number = req.account.phone_numbers.get(req.path_param("number_id"))
    if number is None or not number.active:
        raise ApiError(404, "Phone number not found")
    return number


def _replacement_for(account: Account, old: PhoneNumber) -> str:
    """A fresh number in the same block: the last two digits change (keeps +1 555 01xx fictional)."""
    used = {number.phone_number for number in account.phone_numbers.values()}
    stem, last = old.phone_number[:-2], int(old.phone_number[-2:])
    for step in range(1, 100):
        candidate = f"{stem}{(last + step) % 100:02d}"
        if candidate not in used:
            return candidate
    raise ApiError(409, "No replacement number available")
