"""Turn telli client errors into `ToolError`s the model can act on, and keep each tool call within its deadline.

Only `ToolError` text reaches the model (any other exception becomes a bare "Error executing tool"), so
every `TelliError` is translated here, once, into one sentence saying what happened and a piece of advice.
The facts come from the client's error (status, request, telli's own words, and `may_have_changed`, the
client's one rule for "may this have changed something at telli"); nothing here looks at HTTP methods or
paths, and the client's finished message (`str(err)`, written for a terminal) is not wrapped. The API key is
never part of any message: client errors do not carry it, and nothing here adds request headers. Which key
telli rejected is named by who brought it: the caller's `Authorization` header, or the server's TELLI_API_KEY.

Deadline: every request runs inside a client `deadline()` (TELLI_MCP_TOOL_DEADLINE_SECONDS, see
`request_deadline`), so each telli request of the call gets only the time left. `translating` also stops its
section (a resolver or the tool body) shortly after the time is up, whatever it is waiting for, and answers
with what it knows: for a tool that writes, whether a request that changes something may have reached telli
(the client records them), by the same rule as a single failed request.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

import anyio
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import ValidationError

from telli_mcp.bounded import ITEMS_SHOWN, clip, first, listing, more
from telli_mcp.campaigns import CampaignError
from telli_mcp.client import Deadline, current_deadline
from telli_mcp.client.errors import (
    AuthenticationError,
    ConflictError,
    InputError,
    InvalidRequestError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    TelliAPIError,
    TelliConnectionError,
    TelliError,
    TelliTimeoutError,
)
from telli_mcp.database import DatabaseUnavailable
from telli_mcp.server.caller import current_caller
from telli_mcp.text import inline

__all__ = ["describe", "invalid_arguments", "out_of_time", "outcome_unknown", "translating"]

P = ParamSpec("P")
R = TypeVar("R")

_MAY_HAVE_HAPPENED = (
    "telli may or may not have processed it. Do not simply retry: check first (get_contact shows the "
    "dialer status, list_calls shows calls), because a blind retry could call a person twice."
)
_NOTHING_CHANGED = "Nothing was changed; retry shortly."
_WHERE_IDS_COME_FROM = (
    "Check the id: contact ids come from list_contacts/get_contact, call ids from list_calls, agent ids from "
    "list_agents, property keys from list_contact_properties."
)


def outcome_unknown(err: TelliError) -> bool:
    """Whether telli may have changed something although the request failed (its answer was lost after
    sending, it answered 5xx, or it answered 2xx with a body that cannot be read): the client's fact."""
    return err.may_have_changed


def _status(err: TelliAPIError) -> str:
    """'(404) on GET /v2/contacts/…': the status and the request it answered."""
    return f"({err.status_code}) on {err.request}" if err.request else f"({err.status_code})"


def _said(err: TelliAPIError, lead: str = ": ") -> str:
    """': telli said "…"' (telli's words, cleaned for the model), or nothing when telli said nothing new."""
    return f"{lead}{inline(err.telli_said)}" if err.telli_said else ""


def _rejected_key(err: AuthenticationError) -> str:
    # Over HTTP a caller's own key acts; over stdio (or without a header, where allowed) the server's key.
    if current_caller().bearer_key is not None:
        return (
            f"telli rejected the telli key sent in the Authorization header (401){_said(err)}. Ask the user to "
            'send a current key from the telli app (Settings > API & Webhooks) as "Authorization: Bearer <key>".'
        )
    return (
        f"telli rejected TELLI_API_KEY (401){_said(err)}. Ask the user to set a current key from the telli app "
        "(Settings > API & Webhooks) and to run `telli-mcp doctor` to check it."
    )


def _api_error(err: TelliAPIError) -> str:
    status, said = _status(err), _said(err)
    if isinstance(err, AuthenticationError):
        return _rejected_key(err)
    if isinstance(err, PaymentRequiredError):
        return f"This needs a paid telli plan {status}{said}. Tell the user; retrying will not help."
    if isinstance(err, PermissionDeniedError):
        return (
            f"The telli key may not do this {status}{said}. Tell the user to check the key's permissions in the "
            "telli app; retrying will not help."
        )
    if isinstance(err, NotFoundError):
        return f"Not found {status}{said}. {_WHERE_IDS_COME_FROM}"
    if isinstance(err, ConflictError):
        return (
            f"Conflict {status}: it already exists{_said(err, '; ')}. Look it up (e.g. get_contact with "
            "external_id) instead."
        )
    if isinstance(err, InvalidRequestError):
        return (
            f"telli rejected the input {status}{said}{_details(err)}. For property keys and allowed values call "
            "list_contact_properties."
        )
    if isinstance(err, RateLimitError):
        wait = f"Retry after {err.retry_after:g} seconds." if err.retry_after else "Wait a little and retry."
        return f"telli is rate limiting requests {status}. {wait}"
    if isinstance(err, ServerError):
        if err.may_have_changed:
            return f"telli had a server error {status}{said}; {_MAY_HAVE_HAPPENED}"
        return f"telli had a server error {status}{said}. Retry in a minute."
    return f"telli answered {status}{said}. Check the arguments, then retry."


def _details(err: TelliAPIError) -> str:
    if not err.details:
        return ""
    # telli's details can echo everything it was sent: a few of them, each clipped and cleaned.
    items = (inline(f"{key}={value}") for key, value in sorted(err.details.items()))
    return f" ({listing(items, separator=', ')})"


def _no_answer(err: TelliConnectionError) -> str:
    """What happened to a request that got no complete answer, from the client's facts."""
    if not err.maybe_processed:
        return f"Could not reach telli ({err.request or 'the request'} was not sent)"
    if isinstance(err, TelliTimeoutError):
        return f"telli did not answer in time ({err.request})" if err.request else "telli did not answer in time"
    return f"The connection to telli broke during {err.request or 'the request'}"


def _unreadable(err: ResponseDecodeError) -> str:
    answered = f"telli answered {err.request}" if err.request else "telli answered"
    return f"{answered}, but its answer could not be read"


def describe(err: TelliError) -> str:
    """One sentence saying what happened, then what to do, for the model."""
    if isinstance(err, InputError):
        return f"Invalid {err.field}: {err.reason}. Nothing was sent to telli."
    if isinstance(err, TelliAPIError):
        return _api_error(err)
    if isinstance(err, TelliTimeoutError) and err.deadline:
        return out_of_time(err.deadline, unknown=err.may_have_changed)
    if isinstance(err, TelliConnectionError | ResponseDecodeError):
        what = _no_answer(err) if isinstance(err, TelliConnectionError) else _unreadable(err)
        if err.may_have_changed:
            return f"{what}; {_MAY_HAVE_HAPPENED}"
        if isinstance(err, ResponseDecodeError):
            # An HTML page from a proxy, or a base URL that is not telli's API, reads as an unreadable answer.
            return (
                f"{what}. {_NOTHING_CHANGED} If it persists, ask the user to check that TELLI_API_BASE_URL "
                "points at the telli API."
            )
        return f"{what}. {_NOTHING_CHANGED}"
    return f"telli request failed: {err}"


def out_of_time(deadline: str, *, unknown: bool) -> str:
    """The answer of a tool call that ran out of time; `unknown`: a request that changes something may have
    reached telli."""
    head = f"This tool call ran out of time: it did not finish within {deadline}"
    if unknown:
        return f"{head}, after a request that changes something was sent; {_MAY_HAVE_HAPPENED}"
    return f"{head}. Nothing was changed. Retry later; if telli is merely slow, raise that setting."


def _out_of_time(call: Deadline, writes: bool) -> str:
    # The client recorded every request of this call that may have changed something (by `may_change`).
    return out_of_time(call.describe(), unknown=writes and bool(call.changes))


def _grace(call: Deadline) -> float:
    """How long after the deadline a section may still take to answer with what it knows (the client has cut
    every request off by then; a tool turning a timeout into a result needs a moment)."""
    return min(1.0, max(0.05, call.seconds / 10))


def translating(fn: Callable[P, Awaitable[R]], *, writes: bool) -> Callable[P, Awaitable[R]]:
    """Wrap a tool or resolver so `TelliError`s and `CampaignError`s become model-readable `ToolError`s, and so
    it stops when the tool call's deadline (see the module docstring) has passed.

    `writes`: the section may change something at telli (a resolver's preview reads do not). It only matters
    when the deadline passes while no request failed; a failed request's own error says what it may have done.
    """

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        call = current_deadline()
        try:
            if call is None:
                return await fn(*args, **kwargs)
            with anyio.move_on_after(call.remaining() + _grace(call)):
                return await fn(*args, **kwargs)
            # Still waiting on something that is not a telli request (a settle pause, a file, a lock).
            raise ToolError(_out_of_time(call, writes))
        except TelliError as err:
            if call is not None and isinstance(err, TelliTimeoutError) and err.deadline:
                raise ToolError(_out_of_time(call, writes)) from err
            raise ToolError(describe(err)) from err
        except CampaignError as err:  # written for the reader already (what went wrong, what to do)
            raise ToolError(str(err)) from None
        except DatabaseUnavailable as err:  # names the database by its redacted URL
            raise ToolError(f"{err}. {_DATABASE_DOWN}") from None

    return wrapper


_DATABASE_DOWN = (
    "telli-mcp keeps its campaigns, the do-not-call list and telli's events there, so it did not go on without it: "
    "whatever this call had not done yet was not sent to telli. Call again in a moment: that does not repeat what "
    "it had done (a campaign resumes where it stopped)."
)


def logged_not_answered(change: Callable[[], object], log: logging.Logger, failure: str, *args: object) -> None:
    """Bookkeeping after telli did what a tool asked (the contact index, a deleted contact's stored events): run
    `change`; whatever fails in it is logged (`failure` % `args`, with the traceback), never answered. An error would
    read "not done, call again": the caller would do twice what telli already did, or never learn it was done."""
    try:
        change()
    except Exception:
        log.exception(failure, *args)


def invalid_arguments(err: ValidationError) -> str:
    """Argument validation problems, the first few by field, then how many more: the message never grows with
    the input (100,000 bad ids are one line per shown id, not one per id)."""
    count = err.error_count()
    # include_input=False: the rejected values are the caller's data; the messages quote them, clipped.
    problems, _ = first(err.errors(include_url=False, include_context=False, include_input=False), ITEMS_SHOWN)
    lines = [
        f"{'.'.join(str(part) for part in problem['loc']) or 'arguments'}: "
        + clip(str(problem["msg"]).removeprefix("Value error, "))
        for problem in problems
    ]
    tail = more(count - len(problems))
    what = "1 invalid argument" if count == 1 else f"{count:,} problems with the arguments"
    return f"{what}; nothing was sent to telli. " + "; ".join([*lines, tail] if tail else lines)
