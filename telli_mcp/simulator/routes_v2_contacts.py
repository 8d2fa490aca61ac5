"""v2 contact endpoints (§2.5): camelCase, typed properties, cursor pagination, structured errors."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from .contacts import ContactChanges, apply_changes, create_contact, delete_contact
from .endpoint import ApiRequest, Backend, json_response, make_route
from .errors import ApiError, bad_request
from .pagination import paginate, parse_limit
from .records import Contact, JsonValue
from .store import SYSTEM_PROPERTIES, Account
from .validation import BodyReader, check_e164, check_timezone, is_email, validate_property_value
from .views import collection_v2, contact_v2

__all__ = ["parse_property_values", "routes"]


def routes(backend: Backend) -> list[Route]:
    def route(path: str, method: str, handler: Any) -> Route:
        return make_route(path, method, handler, version="v2", backend=backend)

    return [
        route("/v2/contacts", "POST", create),
        route("/v2/contacts", "GET", list_contacts),
        route("/v2/contacts/{contact_id}", "GET", get),
        route("/v2/contacts/{contact_id}", "PATCH", patch),
        route("/v2/contacts/{contact_id}", "PUT", put),
        route("/v2/contacts/{contact_id}", "DELETE", delete),
        route("/v2/external/contacts/{external_id:path}", "GET", get_by_external_id),
    ]


async def create(req: ApiRequest) -> Response:
    changes = parse_contact(await req.body(), req.account, partial=False)
    contact = create_contact(req.account, changes)
    return json_response(contact_v2(contact, req.account), 201)


async def list_contacts(req: ApiRequest) -> Response:
    limit = parse_limit(req.query("limit"))
    page = paginate(
        req.account.live_contacts(),
        scope="contacts",
        limit=limit,
        cursor=req.query("cursor"),
        position=lambda contact: [contact.seq],
    )
    data = [contact_v2(contact, req.account) for contact in page.items]
    return json_response(collection_v2("ContactCollection", data, next_cursor=page.next_cursor, limit=limit))


async def get(req: ApiRequest) -> Response:
    return json_response(contact_v2(_contact(req), req.account))


async def get_by_external_id(req: ApiRequest) -> Response:
    contact = req.account.contact_by_external_id(req.path_param("external_id"))
    if contact is None:
        raise ApiError(404, "Contact not found", "CONTACT_NOT_FOUND")
    return json_response(contact_v2(contact, req.account))


async def patch(req: ApiRequest) -> Response:
    contact = _contact(req)
    apply_changes(req.account, contact, parse_contact(await req.body(), req.account, partial=True))
    return json_response(contact_v2(contact, req.account))


async def put(req: ApiRequest) -> Response:
    contact = _contact(req)
    apply_changes(req.account, contact, parse_contact(await req.body(), req.account, partial=False))
    return json_response(contact_v2(contact, req.account))


async def delete(req: ApiRequest) -> Response:
    delete_contact(req.account, _contact(req), req.backend.dialer)
    return Response(status_code=204)


def _contact(req: ApiRequest) -> Contact:
    contact = req.account.find_contact(req.path_param("contact_id"))
    if contact is None:
        raise ApiError(404, "Contact not found", "CONTACT_NOT_FOUND")
    return contact


def parse_contact(body: BodyReader, account: Account, *, partial: bool) -> ContactChanges:
    """Create and PUT need every required field (absent optionals become null); PATCH takes any subset."""
    changes = ContactChanges()

    def wanted(name: str) -> bool:
        return not partial or body.has(name)

    if wanted("firstName"):
        changes.first_name = body.required_str("firstName", max_len=50)
    if wanted("lastName"):
        changes.last_name = body.required_str("lastName", max_len=50)
    if wanted("phoneNumber"):
        changes.phone_number = check_e164(body.required_str("phoneNumber", max_len=20), "phoneNumber")
    if wanted("externalId"):
        changes.external_id = body.optional_str("externalId", min_len=1)
    if wanted("externalUrl"):
        changes.external_url = body.optional_str("externalUrl")
    if wanted("salutation"):
        changes.salutation = body.optional_str("salutation")
    if wanted("email"):
        changes.email = _email(body)
    if wanted("timezoneIana"):
        timezone = body.optional_str("timezoneIana")
        changes.timezone = None if timezone is None else check_timezone(timezone, "timezoneIana")
    if body.has("properties") or not partial:
        values = parse_property_values(body.data.get("properties") or [], account)
        if partial:
            changes.custom_merge = values
        else:
            changes.custom = values
    return changes


def _email(body: BodyReader) -> str | None:
    email = body.optional_str("email")
    if email is not None and not is_email(email):
        raise bad_request("email must be a valid email address", field_name="email")
    return email


def parse_property_values(raw: object, account: Account) -> dict[str, JsonValue]:
    """The `properties` array of {key, value}; null values are kept (they clear on PATCH)."""
    if not isinstance(raw, list):
        raise bad_request("properties must be an array of {key, value} objects", field_name="properties")
    values: dict[str, JsonValue] = {}
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise bad_request("properties must be an array of {key, value} objects", field_name="properties")
        key: str = item["key"]
        value: JsonValue = item.get("value")
        if key in SYSTEM_PROPERTIES:
            raise ApiError(
                422,
                f"'{key}' is a system property; set it with the top-level field",
                "INVALID_PROPERTY_VALUE",
                {"key": key},
            )
        definition = account.user_property(key)
        if definition is None:
            raise ApiError(422, f"Unknown property '{key}'", "UNKNOWN_PROPERTY", {"key": key})
        values[key] = None if value is None else validate_property_value(definition, value)
    return values
