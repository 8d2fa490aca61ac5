"""v1 contact endpoints #1–#8 (§2.2): snake_case, `{"message"}` errors, per-item batch results in a 200."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from .contacts import ContactChanges, apply_changes, create_contact, delete_contact
from .endpoint import ApiRequest, Backend, json_response, make_route
from .errors import ApiError, bad_request
from .records import Contact, JsonValue
from .store import Account
from .validation import BodyReader, check_e164, check_timezone, is_email
from .views import contact_batch_v1, contact_external_v1, contact_v1

__all__ = ["BATCH_LIMIT", "routes"]

BATCH_LIMIT = 1000
_DETAILS_PREFIX = "contact_details_"


def routes(backend: Backend) -> list[Route]:
    def route(path: str, method: str, handler: Any) -> Route:
        return make_route(path, method, handler, version="v1", backend=backend)

    return [
        route("/v1/add-contact", "POST", add_contact),
        route("/v1/add-contacts-batch", "POST", add_contacts_batch),
        route("/v1/get-contact/{contact_id}", "GET", get_contact),
        route("/v1/get-contact-by-external-id/{external_id:path}", "GET", get_contact_by_external_id),
        route("/v1/get-contacts-batch", "POST", get_contacts_batch),
        route("/v1/update-contact", "PATCH", update_contact),
        route("/v1/update-contacts-batch", "PATCH", update_contacts_batch),
        route("/v1/delete-contact/{contact_id}", "DELETE", delete),
    ]


async def add_contact(req: ApiRequest) -> Response:
    contact = create_contact(req.account, parse_contact_v1(await req.body(), partial=False))
    return json_response({"contact_id": contact.id})


async def add_contacts_batch(req: ApiRequest) -> Response:
    items = _batch(await req.body(), "contacts")
    results = [_add_one(req.account, item) for item in items]
    succeeded = sum(1 for result in results if result["status"] == "success")
    return json_response(
        {
            "total_processed": len(results),
            "total_success": succeeded,
            "total_failed": len(results) - succeeded,
            "result": results,
        }
    )


def _add_one(account: Account, item: object) -> dict[str, Any]:
    external_id = item.get("external_contact_id") if isinstance(item, dict) else None
    try:
        contact = create_contact(account, parse_contact_v1(BodyReader(item), partial=False))
    except ApiError as error:
        return {"external_contact_id": external_id, "status": "error", "error": error.message}
    return {"external_contact_id": external_id, "status": "success", "contact_id": contact.id}


async def get_contact(req: ApiRequest) -> Response:
    return json_response(contact_v1(_find(req.account, req.path_param("contact_id"))))


async def get_contact_by_external_id(req: ApiRequest) -> Response:
    contact = req.account.contact_by_external_id(req.path_param("external_id"))
    if contact is None:
        raise ApiError(404, "Contact not found")
    return json_response(contact_external_v1(contact))


async def get_contacts_batch(req: ApiRequest) -> Response:
    results: list[dict[str, Any]] = []
    for contact_id in _batch(await req.body(), "contact_ids"):
        contact = req.account.find_contact(contact_id) if isinstance(contact_id, str) else None
        if contact is None:
            results.append({"status": "error", "error": "Contact not found", "contactId": contact_id})
        else:
            results.append({"status": "success", "contact": contact_batch_v1(contact)})
    return json_response(results)


async def update_contact(req: ApiRequest) -> Response:
    contact = _update_one(req.account, await req.body())
    return json_response({"contact_id": contact.id})


async def update_contacts_batch(req: ApiRequest) -> Response:
    results: list[dict[str, Any]] = []
    for item in _batch(await req.body(), "contacts"):
        contact_id = item.get("contact_id") if isinstance(item, dict) else None
        try:
            _update_one(req.account, BodyReader(item))
        except ApiError as error:
            results.append({"contact_id": contact_id, "status": "error", "error": error.message})
        else:
            results.append({"contact_id": contact_id, "status": "success"})
    return json_response(results)


def _update_one(account: Account, body: BodyReader) -> Contact:
    contact = _find(account, body.required_str("contact_id"))
    apply_changes(account, contact, parse_contact_v1(body, partial=True))
    return contact


async def delete(req: ApiRequest) -> Response:
    contact = _find(req.account, req.path_param("contact_id"))
    delete_contact(req.account, contact, req.backend.dialer)
    return json_response({"contact_id": contact.id, "message": "Contact deleted successfully"})  # [I]


def _find(account: Account, contact_id: str) -> Contact:
    contact = account.find_contact(contact_id)
    if contact is None:
        raise ApiError(404, "Contact not found")
    return contact


def _batch(body: BodyReader, name: str) -> list[Any]:
    items = body.required_list(name)
    if len(items) > BATCH_LIMIT:
        raise bad_request(f"Maximum {BATCH_LIMIT} contacts per request", field_name=name)
    return items


def parse_contact_v1(body: BodyReader, *, partial: bool) -> ContactChanges:
    """add-contact needs the four required fields; update takes any subset ([I] no length limits in v1)."""
    changes = ContactChanges()

    def wanted(name: str) -> bool:
        return not partial or body.has(name)

    if wanted("external_contact_id"):
        changes.external_id = body.required_str("external_contact_id")
    if wanted("first_name"):
        changes.first_name = body.required_str("first_name")
    if wanted("last_name"):
        changes.last_name = body.required_str("last_name")
    if wanted("phone_number"):
        changes.phone_number = check_e164(body.required_str("phone_number"), "phone_number")
    if body.has("external_url"):
        changes.external_url = body.optional_str("external_url")
    if body.has("salutation"):
        changes.salutation = body.optional_str("salutation")
    if body.has("email"):
        email = body.optional_str("email")
        if email is not None and not is_email(email):
            raise bad_request("email must be a valid email address", field_name="email")
        changes.email = email
    if body.has("timezone"):
        timezone = body.optional_str("timezone")
        changes.timezone = None if timezone is None else check_timezone(timezone, "timezone")
    _parse_details(body, changes, partial=partial)
    return changes


def _parse_details(body: BodyReader, changes: ContactChanges, *, partial: bool) -> None:
    """`contact_details` (or its deprecated name `dynamic_variables`) replaces all custom values;
    `contact_details_<key>` fields set single values. [I] v1 values are stored without type checks."""
    details = body.optional_object("contact_details")
    if details is None:
        details = body.optional_object("dynamic_variables")
    flat: dict[str, JsonValue] = {
        name[len(_DETAILS_PREFIX) :]: value
        for name, value in body.data.items()
        if name.startswith(_DETAILS_PREFIX) and len(name) > len(_DETAILS_PREFIX)
    }
    if details is not None or not partial:
        changes.custom = {**(details or {}), **flat}
    else:
        changes.custom_merge = flat
