"""Turn telli client errors into `ToolError`s the model can act on.

Only `ToolError` text reaches the model (any other exception becomes a bare "Error executing tool"), so
every `TelliError` is translated here, once, with advice on what to do next. The API key is never part of
any message: client errors do not carry it, and nothing here adds request headers.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from mcp.server.mcpserver.exceptions import ToolError

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
)

__all__ = ["describe", "outcome_unknown", "translating"]

P = ParamSpec("P")
R = TypeVar("R")

_READ_POSTS = frozenset({"/v1/get-contacts-batch"})
"""Reads telli takes as POST (the client retries them like GETs)."""

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
    return writes and err.method != "GET" and err.path not in _READ_POSTS


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
    parts = ", ".join(f"{key}={value}" for key, value in sorted(err.details.items()))
    return f" ({parts})."


def describe(err: TelliError, *, writes: bool) -> str:
    """One actionable sentence or two for the model."""
    if isinstance(err, InputError):
        return f"Invalid {err.field}: {err.reason}. Nothing was sent to telli."
    if isinstance(err, TelliAPIError):
        return _api_error(err, writes)
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


def translating(fn: Callable[P, Awaitable[R]], *, writes: bool) -> Callable[P, Awaitable[R]]:
    """Wrap a tool or resolver so `TelliError`s become model-readable `ToolError`s."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except TelliError as err:
            raise ToolError(describe(err, writes=writes)) from err

    return wrapper
