"""The contacts toolset: create, get (merged with the dialer state), list, update, delete (confirmed)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.elicitation import ElicitationResult
from mcp.server.mcpserver import Context, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import AfterValidator, Field

from telli_mcp.client import NotFoundError
from telli_mcp.server.callees import timezone_from_number
from telli_mcp.server.confirm import Arguments, Ask, Confirmable, Confirmation, approval_from
from telli_mcp.server.contact_search import index_deleted, index_written
from telli_mcp.server.deps import deps_of
from telli_mcp.server.errors import logged_not_answered
from telli_mcp.server.paging import fit_page
from telli_mcp.server.params import (
    ConfirmationTokenArg,
    ContactIdArg,
    CursorArg,
    OptionalContactIdArg,
    OptionalEmailArg,
    OptionalPhoneArg,
    OptionalTimezoneArg,
    PhoneArg,
    check_contact_id,
)
from telli_mcp.server.properties_check import check_property_values
from telli_mcp.server.resources import as_json, checked_id, reading
from telli_mcp.server.results import ToolResult
from telli_mcp.server.risk import Risk, ToolSpec
from telli_mcp.server.surface import Instruction, ResourceDef, Surface, ToolDef
from telli_mcp.server.views import (
    ContactDetail,
    ContactSaved,
    ContactSummary,
    contact_detail,
    contact_saved,
    contact_summary,
)
from telli_mcp.text import http_url, inline, optional, plain_json, plain_line, visible_line
from telli_mcp.together import both

if TYPE_CHECKING:
    from telli_mcp.client import ContactV1, PropertyValueInput, TelliClient

__all__ = ["SURFACE", "ContactList", "DeleteContactResult", "dialer_state"]

CONTACTS = "contacts"

logger = logging.getLogger(__name__)

# What we send to telli carries no control, escape, bidi or invisible characters (they would reach telli's app,
# exports and the agent's prompt), and a link is an http(s) URL; all checked before any request.
NameArg = Annotated[str, Field(min_length=1, max_length=50), AfterValidator(visible_line)]
OptionalName = Annotated[str | None, Field(min_length=1, max_length=50), AfterValidator(optional(visible_line))]
SalutationArg = Annotated[
    str | None, Field(max_length=50, description="e.g. Herr, Frau, Mr., Ms."), AfterValidator(optional(plain_line))
]
ExternalUrlArg = Annotated[str | None, Field(max_length=2048), AfterValidator(optional(http_url))]


class ContactList(ToolResult):
    contacts: list[ContactSummary]
    next_cursor: str | None = Field(description="Pass as cursor to get the next page; null at the end")
    note: str | None = None


class DeleteContactResult(Confirmable):
    deleted: bool
    contact_id: str


async def _lookup(client: TelliClient, contact_id: str | None, external_id: str | None) -> ContactDetail:
    if (contact_id is None) == (external_id is None):
        raise ToolError("Pass exactly one of contact_id or external_id.")
    if contact_id is None:
        assert external_id is not None
        contact = await client.contacts.get_by_external_id(external_id)  # the dialer read needs its id
        return contact_detail(contact, await dialer_state(client, contact.id))
    found, dialer = await both(lambda: client.contacts.get(contact_id), lambda: dialer_state(client, contact_id))
    return contact_detail(found, dialer)


async def dialer_state(client: TelliClient, contact_id: str) -> ContactV1 | None:
    """The contact's v1 record (its auto-dialer state), or None when telli has no such contact."""
    try:
        return await client.contacts_v1.get(contact_id)
    except NotFoundError:
        return None


def _property_inputs(properties: dict[str, Any] | None) -> list[PropertyValueInput] | None:
    if properties is None:
        return None
    from telli_mcp.client import PropertyValueInput

    return [PropertyValueInput(key=key, value=value) for key, value in properties.items()]


async def create_contact(
    first_name: NameArg,
    last_name: NameArg,
    phone_number: PhoneArg,
    ctx: Context,
    external_id: Annotated[
        str | None,
        Field(min_length=1, max_length=255, description="Your CRM id; must be unique"),
        AfterValidator(optional(visible_line)),
    ] = None,
    email: OptionalEmailArg = None,
    timezone: OptionalTimezoneArg = None,
    salutation: SalutationArg = None,
    external_url: ExternalUrlArg = None,
    properties: Annotated[
        dict[str, Any] | None,
        Field(description="Keys from list_contact_properties"),
        AfterValidator(plain_json),
    ] = None,
) -> ContactSaved:
    """Create a contact (nobody is called). Without timezone, the number's zone is used if unique."""
    deps = deps_of(ctx)
    client = deps.client()
    await check_property_values(client, properties, clearing_allowed=False)
    note = None
    if timezone is None:
        timezone, note = timezone_from_number(phone_number, deps.default_timezone)
    from telli_mcp.client import ContactCreate

    contact = await client.contacts.create(
        ContactCreate(
            first_name=first_name,
            last_name=last_name,
            phone_number=phone_number,
            external_id=external_id,
            email=email,
            timezone_iana=timezone,
            salutation=salutation,
            external_url=external_url,
            properties=_property_inputs(properties) or [],
        )
    )
    index_written(ctx, contact, created=True)
    return contact_saved(contact, note)


async def _timezone_for_new_number(
    client: TelliClient, contact_id: str, phone_number: str, account_timezone: str
) -> tuple[str | None, str | None]:
    """A changed number brings its own zone (when it has exactly one); an unchanged one keeps the stored zone,
    which may have been set on purpose."""
    current = await client.contacts.get(contact_id)
    if current.phone_number == phone_number:
        return None, None
    return timezone_from_number(phone_number, account_timezone, kept=current.timezone_iana)


async def get_contact(
    ctx: Context,
    contact_id: OptionalContactIdArg = None,
    external_id: Annotated[
        str | None, Field(min_length=1, max_length=255, description="Your CRM id, instead of contact_id")
    ] = None,
) -> ContactDetail:
    """One contact with its auto-dialer state. dialer_status: new (never called), pending (in the dialer), reached
    (had a conversation), closed (dialer gave up).
    """
    return await _lookup(deps_of(ctx).client(), contact_id, external_id)


async def list_contacts(
    ctx: Context,
    limit: Annotated[int, Field(ge=1, le=100)] = 20,
    cursor: CursorArg = None,
) -> ContactList:
    """Contacts as summaries, a page at a time. By CRM id: get_contact(external_id=...)."""
    contacts = deps_of(ctx).client().contacts
    page = await fit_page(
        lambda size, at: contacts.list(limit=size, cursor=at),
        contact_summary,
        listing="contacts",
        limit=limit,
        cursor=cursor,
    )
    return ContactList(contacts=page.items, next_cursor=page.next_cursor, note=page.note)


async def update_contact(
    contact_id: ContactIdArg,
    ctx: Context,
    first_name: OptionalName = None,
    last_name: OptionalName = None,
    phone_number: OptionalPhoneArg = None,
    email: OptionalEmailArg = None,
    timezone: OptionalTimezoneArg = None,
    salutation: Annotated[str | None, Field(max_length=50), AfterValidator(optional(plain_line))] = None,
    external_id: Annotated[
        str | None, Field(min_length=1, max_length=255), AfterValidator(optional(visible_line))
    ] = None,
    external_url: Annotated[str | None, Field(max_length=2048), AfterValidator(optional(http_url))] = None,
    properties: Annotated[
        dict[str, Any] | None,
        Field(description="Keys from list_contact_properties; null clears one, others stay"),
        AfterValidator(plain_json),
    ] = None,
) -> ContactSaved:
    """Change only the fields you pass (nobody is called). A new phone_number without timezone gets its zone if
    unique.
    """
    deps = deps_of(ctx)
    client = deps.client()
    await check_property_values(client, properties, clearing_allowed=True)
    note = None
    if phone_number is not None and timezone is None:
        timezone, note = await _timezone_for_new_number(client, contact_id, phone_number, deps.default_timezone)
    changes: dict[str, Any] = {
        "first_name": first_name,
        "last_name": last_name,
        "phone_number": phone_number,
        "email": email,
        "timezone_iana": timezone,
        "salutation": salutation,
        "external_id": external_id,
        "external_url": external_url,
    }
    fields = {key: value for key, value in changes.items() if value is not None}
    if properties is not None:
        fields["properties"] = _property_inputs(properties)
    if not fields:
        raise ToolError("Nothing to update: pass at least one field to change.")
    from telli_mcp.client import ContactUpdate

    contact = await client.contacts.update(contact_id, ContactUpdate(**fields))
    index_written(ctx, contact)
    return contact_saved(contact, note)


async def ask_delete(args: Arguments, ctx: Context) -> Ask:
    contact = await deps_of(ctx).client().contacts.get(args["contact_id"])
    # Name and number come from telli and go into the human's dialog: cleaned to one line each.
    name = inline(f"{contact.first_name or ''} {contact.last_name or ''}") or "(no name)"
    return Ask(
        f"Permanently delete the contact {name} ({inline(contact.phone_number)}, "
        f"contact id {args['contact_id']})? telli erases their personal data; this cannot be undone."
    )


delete_confirmation = Confirmation(ask_delete)


async def delete_contact(
    contact_id: ContactIdArg,
    ctx: Context,
    answer: Annotated[ElicitationResult[Any], Resolve(delete_confirmation.resolver)],
    confirmation_token: ConfirmationTokenArg = None,
) -> DeleteContactResult:
    """Permanently delete a contact, erasing their personal data. Asks the user. To stop calling someone, use
    cancel_scheduled_calls.
    """
    approval = approval_from(answer, what=f"contact {contact_id} was not deleted.")
    if not approval.granted:
        return DeleteContactResult(deleted=False, contact_id=contact_id).awaiting(approval.request)
    await deps_of(ctx).client().contacts.delete(contact_id)
    index_deleted(ctx, contact_id)
    _forget_events(ctx, contact_id)
    return DeleteContactResult(deleted=True, contact_id=contact_id)


def _forget_events(ctx: Context, contact_id: str) -> None:
    """Erase the deleted contact's stored events, and keep none that arrives later. telli has deleted the contact by
    now, so a failure here (the database is down) is logged, not answered: an error would read "not deleted, call
    again", and the caller would never learn that the contact is gone."""
    deps = deps_of(ctx)

    def forget() -> None:
        store = deps.event_store()
        if store is not None:
            store.forget_contact(deps.tenant(), contact_id)

    logged_not_answered(
        forget,
        logger,
        "Contact %s was deleted in telli, but its stored webhook events could not be erased; they are kept until "
        "they expire, with any that still arrive for it",
        contact_id,
    )


async def contact_resource(contact_id: str, ctx: Context) -> str:
    """A contact with its properties and auto-dialer state (third-party data)."""
    contact_id = checked_id(check_contact_id, contact_id, f"telli://contacts/{contact_id}")
    client = deps_of(ctx).client()
    with reading(f"No telli contact {contact_id}"):
        contact, dialer = await both(
            lambda: client.contacts.get(contact_id), lambda: client.contacts_v1.get(contact_id)
        )
    return as_json(contact_detail(contact, dialer))


SURFACE = Surface(
    CONTACTS,
    tools=(
        ToolDef(ToolSpec("create_contact", "Create contact", CONTACTS, Risk.WRITE, idempotent=False), create_contact),
        ToolDef(ToolSpec("get_contact", "Get contact", CONTACTS, Risk.READ, idempotent=True), get_contact),
        ToolDef(ToolSpec("list_contacts", "List contacts", CONTACTS, Risk.READ, idempotent=True), list_contacts),
        ToolDef(ToolSpec("update_contact", "Update contact", CONTACTS, Risk.WRITE, idempotent=True), update_contact),
        ToolDef(
            ToolSpec("delete_contact", "Delete contact", CONTACTS, Risk.DESTRUCTIVE, idempotent=True), delete_contact
        ),
    ),
    resources=(ResourceDef("telli://contacts/{contact_id}", "Contact", "application/json", contact_resource),),
    instructions=(
        Instruction(
            "- Find people with get_contact (by contact_id or your CRM external_id) or list_contacts; "
            "get_contact also\n"
            "  shows where they are in the dialer (new, pending, reached, closed).",
            uses=("get_contact", "list_contacts"),
        ),
    ),
)
