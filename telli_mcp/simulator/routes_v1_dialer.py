"""v1 dialer and call endpoints #9–#15 (§2.3): schedule, initiate, remove, get-call, list-calls."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from telli_mcp.contract.formats import FORMAT_CHECKER

from .endpoint import ApiRequest, Backend, json_response, make_route
from .errors import ApiError, bad_request
from .pagination import paginate, parse_limit
from .records import Agent, Call, Contact, DialerLoop
from .store import Account
from .validation import BodyReader, is_e164
from .views import call_v1, contact_v1, epoch_ms

__all__ = ["DIALER_BATCH_LIMIT", "routes"]

DIALER_BATCH_LIMIT = 50


def routes(backend: Backend) -> list[Route]:
    def route(path: str, method: str, handler: Any) -> Route:
        return make_route(path, method, handler, version="v1", backend=backend)

    return [
        route("/v1/schedule-call", "POST", schedule_call),
        route("/v1/schedule-calls-batch", "POST", schedule_calls_batch),
        route("/v1/initiate-call", "POST", initiate_call),
        route("/v1/remove-from-auto-dialer", "POST", remove),
        route("/v1/remove-from-auto-dialer-batch", "POST", remove_batch),
        route("/v1/get-call/{call_id}", "GET", get_call),
        route("/v1/list-calls", "GET", list_calls),
    ]


async def schedule_call(req: ApiRequest) -> Response:
    loop = _schedule_one(req, await req.body())
    return json_response({"status": "success", "contact_id": loop.contact_id, "loop_id": loop.loop_id})


async def schedule_calls_batch(req: ApiRequest) -> Response:
    results: list[dict[str, Any]] = []
    for item in _batch(await req.body(), "contacts"):
        contact_id = item.get("contact_id") if isinstance(item, dict) else None
        try:
            loop = _schedule_one(req, BodyReader(item))
        except ApiError as error:
            # The documented example answers "Contact not found" with error_code 400, so every error is 400.
            results.append(
                {
                    "contact_id": contact_id,
                    "status": "error",
                    "error_message": error.message,
                    "error_code": 400,
                }
            )
        else:
            results.append({"contact_id": loop.contact_id, "status": "success", "loop_id": loop.loop_id})
    return json_response(results)


def _schedule_one(req: ApiRequest, body: BodyReader) -> DialerLoop:
    contact_id = body.required_str("contact_id")
    agent_id = body.required_str("agent_id")
    contact = _find_contact(req.account, contact_id)
    agent = _find_agent(req.account, agent_id)
    return req.backend.dialer.schedule(
        req.account,
        contact,
        agent_id=agent.id,
        max_retry_days=_max_retry_days(body),
        override_from_number=_override_number(req.account, body),
    )


async def initiate_call(req: ApiRequest) -> Response:
    body = await req.body()
    contact = _find_contact(req.account, body.required_str("contact_id"))
    if contact.in_call_since is not None:
        raise ApiError(400, "Contact is already in a call")
    agent = _initiating_agent(req.account, contact, body.optional_str("agent_id"))
    attempt = req.backend.dialer.initiate(
        req.account,
        contact,
        agent_id=agent.id,
        max_retry_days=_max_retry_days(body),
        override_from_number=_override_number(req.account, body),
    )
    return json_response({"status": "success", "contact_id": contact.id, "call_id": attempt.call_id})  # [I]


def _initiating_agent(account: Account, contact: Contact, agent_id: str | None) -> Agent:
    """[I] agent_id is optional here: default to the contact's loop agent, else the account's first agent."""
    if agent_id is not None:
        return _find_agent(account, agent_id)
    loop = account.active_loop_for(contact.id)
    if loop is not None:
        return account.agents[loop.agent_id]
    agents = account.agents_in_order()
    if not agents:
        raise bad_request("agent_id is required", field_name="agent_id")
    return agents[0]


async def remove(req: ApiRequest) -> Response:
    body = await req.body()
    contact = _find_contact(req.account, body.required_str("contact_id"))
    req.backend.dialer.remove(req.account, contact)
    return json_response({"status": "success", "contact_id": contact.id})  # [I]


async def remove_batch(req: ApiRequest) -> Response:
    results: list[dict[str, Any]] = []
    for contact_id in _batch(await req.body(), "contact_ids"):
        try:
            if not FORMAT_CHECKER.conforms(contact_id, "uuid"):
                raise ApiError(400, "Invalid contact_id")  # documented as a per-item error
            req.backend.dialer.remove(req.account, _find_contact(req.account, contact_id))
        except ApiError as error:
            results.append({"contact_id": contact_id, "status": "error", "error": error.message})
        else:
            results.append({"contact_id": contact_id, "status": "success"})
    return json_response(results)


async def get_call(req: ApiRequest) -> Response:
    call = req.account.calls.get(req.path_param("call_id"))
    if call is None:
        raise ApiError(404, "Call not found")
    contact = req.account.contacts[call.contact_id]
    return json_response({"call": call_v1(call), "contact": contact_v1(contact)})


async def list_calls(req: ApiRequest) -> Response:
    contact_id, agent_id = req.query("contact_id"), req.query("agent_id")
    if contact_id is not None and agent_id is not None:
        raise bad_request("Filter by contact_id or agent_id, not both")
    limit = parse_limit(req.query("limit"))
    calls = [
        call
        for call in req.account.calls.values()
        if (contact_id is None or call.contact_id == contact_id) and (agent_id is None or call.agent_id == agent_id)
    ]
    calls.sort(key=_newest_first)
    page = paginate(calls, scope="calls", limit=limit, cursor=req.query("cursor"), position=_newest_first)
    return json_response({"calls": [call_v1(call) for call in page.items], "next_cursor": page.next_cursor})


def _newest_first(call: Call) -> list[Any]:
    return [-epoch_ms(call.triggered_at), call.call_id]


def _find_contact(account: Account, contact_id: str) -> Contact:
    contact = account.find_contact(contact_id)
    if contact is None:
        raise ApiError(404, "Contact not found")  # [I] 404 for the single endpoint
    return contact


def _find_agent(account: Account, agent_id: str) -> Agent:
    agent = account.agents.get(agent_id)
    if agent is None:
        raise bad_request("Agent not found", field_name="agent_id")  # [I] 400, the body is at fault
    return agent


def _max_retry_days(body: BodyReader) -> int | None:
    days = body.optional_number("max_retry_days")
    if days is None:
        return None
    if days < 0 or days != int(days):
        raise bad_request("max_retry_days must be a non-negative integer", field_name="max_retry_days")
    return int(days)


def _override_number(account: Account, body: BodyReader) -> str | None:
    number = body.optional_str("override_from_number")
    if number is not None and not (is_e164(number) and account.owns_number(number)):
        raise bad_request(
            "override_from_number must be an E.164 number that belongs to the account",
            field_name="override_from_number",
        )
    return number


def _batch(body: BodyReader, name: str) -> list[Any]:
    items = body.required_list(name)
    if len(items) > DIALER_BATCH_LIMIT:
        raise bad_request(f"Maximum {DIALER_BATCH_LIMIT} contacts per request", field_name=name)
    return items
