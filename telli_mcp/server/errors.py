"""Turn telli client errors into `ToolError`s the model can act on, and keep each tool call within its deadline.

Only `ToolError` text reaches the model (any other exception becomes a bare "Error executing tool"), so
every `TelliError` is translated here, once, with advice on what to do next. The API key is never part of
any message: client errors do not carry it, and nothing here adds request headers.

Deadline: the registry runs every tool call inside a client `deadline()` (TELLI_MCP_TOOL_DEADLINE_SECONDS), so
each telli request of the call gets only the time left. `translating` also stops its section (a resolver or
the tool body) shortly after the time is up, whatever it is waiting for, and answers with what it knows: for a
tool that writes, whether a request that changes something may have reached telli (the client records them),
by the same rule as a single failed request.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

import anyio
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import ValidationError

from telli_mcp.bounded import ITEMS_SHOWN, clip, first, listing, more
from telli_mcp.campaigns import CampaignError
from telli_mcp.client import Deadline, current_deadline, may_change
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

__all__ = ["describe", "invalid_arguments", "out_of_time", "outcome_unknown", "translating"]

P = ParamSpec("P")
R = TypeVar("R")

_MAY_HAVE_HAPPENED = (
    "telli may or may not have processed it. Do not simply retry: check first (get_contact shows the "
    "dialer status, list_calls shows calls), because a blind retry could call a person twice."
)


def outcome_unknown(err: TelliError) -> bool:
    """Whether telli may have acted on a request that failed this way: its answer was lost after sending, it
    answered 5xx, or it answered 2xx with a body that cannot be read."""
    if isinstance(err, TelliConnectionError):
        return err.maybe_processed
    return isinstance(err, ServerError | ResponseDecodeError)


def _failed_a_write(err: TelliAPIError | TelliConnectionError | ResponseDecodeError, writes: bool) -> bool:
    """Whether the request that failed could have changed something (a tool's preview reads cannot)."""
    return writes and err.method is not None and err.path is not None and may_change(err.method, err.path)


def _api_error(err: TelliAPIError, writes: bool) -> str:
    detail = f" telli said: {err.message}" if err.message else ""
    if isinstance(err, AuthenticationError):
        return "telli rejected the API key (401). Check TELLI_API_KEY (telli app: Settings > API & Webhooks)."
    if isinstance(err, PaymentRequiredError):
        return f"This needs a paid telli plan (402).{detail}"
    if isinstance(err, PermissionDeniedError):
        return f"The API key is not allowed to do this (403).{detail}"
    if isinstance(err, NotFoundError):
        return (
            f"Not found (404).{detail} Check the id: contact ids come from list_contacts/get_contact, "
            "call ids from list_calls, agent ids from list_agents, property keys from list_contact_properties."
        )
    if isinstance(err, ConflictError):
        return f"Conflict (409): it already exists.{detail} Look it up (e.g. get_contact with external_id) instead."
    if isinstance(err, InvalidRequestError):
        return (
            f"telli rejected the input ({err.status_code}).{detail}{_details(err)} For property keys and "
            "allowed values call list_contact_properties."
        )
    if isinstance(err, RateLimitError):
        wait = f" Retry after {err.retry_after:g} seconds." if err.retry_after else " Wait a little and retry."
        return f"telli is rate limiting requests (429).{wait}"
    if isinstance(err, ServerError):
        if _failed_a_write(err, writes):
            return f"telli had a server error ({err.status_code}); {_MAY_HAVE_HAPPENED}"
        return f"telli had a server error ({err.status_code}). Retry in a minute.{detail}"
    return f"telli answered {err.status_code}.{detail}"


def _details(err: TelliAPIError) -> str:
    if not err.details:
        return ""
    # telli's details can echo everything it was sent: a few of them, each clipped.
    parts = listing((f"{key}={value}" for key, value in sorted(err.details.items())), separator=", ")
    return f" ({parts})."


def describe(err: TelliError, *, writes: bool) -> str:
    """One actionable sentence or two for the model."""
    if isinstance(err, InputError):
        return f"Invalid {err.field}: {err.reason}. Nothing was sent to telli."
    if isinstance(err, TelliAPIError):
        return _api_error(err, writes)
    if isinstance(err, TelliTimeoutError) and err.deadline:
        return out_of_time(err.deadline, unknown=err.maybe_processed and _failed_a_write(err, writes))
    if isinstance(err, TelliConnectionError):
        if err.maybe_processed and _failed_a_write(err, writes):
            return f"telli did not answer in time; {_MAY_HAVE_HAPPENED}"
        return "Could not reach telli (network or timeout). Nothing was changed; retry shortly."
    if isinstance(err, ResponseDecodeError):
        # A 2xx whose body cannot be read: telli accepted the request, so a write may well have happened.
        what = f"telli answered but its response could not be read ({str(err).rstrip('.')})"
        if _failed_a_write(err, writes):
            return f"{what}; {_MAY_HAVE_HAPPENED}"
        return (
            f"{what}. Nothing was changed; retry shortly. "
            "If it persists, check that TELLI_API_BASE_URL points at the telli API."
        )
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
    it stops when the tool call's deadline (see the module docstring) has passed."""

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
            raise ToolError(describe(err, writes=writes)) from err
        except CampaignError as err:  # written for the reader already (what went wrong, what to do)
            raise ToolError(str(err)) from None

    return wrapper


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
