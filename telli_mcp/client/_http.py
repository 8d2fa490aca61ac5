"""The request core: authentication, headers, error mapping, decoding and the one retry policy.

Retry policy: only requests that are safe to repeat are retried (GET, PUT, PATCH, DELETE, and the read-only
`POST /v1/get-contacts-batch`), on 429/502/503/504, connection errors and timeouts. telli documents no
idempotency key, so a POST that creates or dials is never repeated: repeating `schedule-call` after a timeout
could phone a person twice. Delays use exponential backoff with full jitter unless telli sent Retry-After, and
all attempts of one request stay within `retry_deadline` seconds. A retried DELETE that gets 404 after an attempt
whose answer was lost (timeout, 5xx) is a success: that attempt deleted it.

Timeouts: `timeout` bounds one attempt's whole exchange (connect, send, response headers and the complete body),
so a telli that trickles its answer a byte at a time still fails at the timeout; httpx's own timeouts only bound
each read. Inside a `deadline()` block (see `deadline.py`) every attempt also gets at most the time left, a retry
waits only if it fits, and nothing is sent once it has passed. Whether telli may have acted on a request that
timed out follows one rule, `_connection_error`: only a request that never left the client (refused, stuck
connecting or waiting for a connection) certainly did not reach telli. Whether a request could change something
at all is `errors.may_change`; every error carries both facts (see `errors`), and composes its own message.

Bodies: a 2xx answer must be empty or JSON, else it is ResponseDecodeError (telli may have acted). Where telli
documents no body (`undocumented_body=True`), the status is the answer: an empty body, a plain-text body (such
as "OK") and JSON that is not an object all read as success with no data, and the caller reports what it sent.
A body that claims another type but does not parse as JSON (an HTML page from a proxy or a wrong base URL, a
cut-off answer) is still ResponseDecodeError there: it is not an answer telli would send.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import anyio
import httpx2
from pydantic import BaseModel, SecretStr, ValidationError

from telli_mcp._version import __version__
from telli_mcp.bounded import clip
from telli_mcp.client.deadlines import Deadline, current_deadline
from telli_mcp.client.errors import (
    READ_ONLY_POSTS,
    ResponseDecodeError,
    TelliAPIError,
    TelliConnectionError,
    TelliTimeoutError,
    make_status_error,
    may_change,
    outcome_note,
)
from telli_mcp.client.keys import mask_key
from telli_mcp.client.models.common import validation_summary
from telli_mcp.text import plain_line
from telli_mcp.urls import public_url

__all__ = ["APIResponse", "HTTPCore", "Sleep", "may_change", "parse_retry_after"]

logger = logging.getLogger("telli_mcp.client")

Sleep = Callable[[float], Awaitable[None]]
QueryParams = Mapping[str, str | int]
ModelT = TypeVar("ModelT", bound=BaseModel)

SAFE_METHODS = frozenset({"GET", "PUT", "PATCH", "DELETE"})
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
# These failures happen before the request leaves the client, so telli cannot have acted on it.
_NOT_SENT_ERRORS = (
    httpx2.ConnectError,
    httpx2.ConnectTimeout,
    httpx2.PoolTimeout,
    httpx2.UnsupportedProtocol,
)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None when absent or invalid."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


@dataclass(frozen=True, slots=True)
class APIResponse:
    """A decoded 2xx response: the JSON body (None when empty) and where it came from."""

    status_code: int
    data: Any
    method: str
    path: str

    def parse(self, model: type[ModelT]) -> ModelT:
        """Validate the body as `model`, turning a shape mismatch into ResponseDecodeError."""
        try:
            return model.model_validate(self.data)
        except ValidationError as exc:
            raise ResponseDecodeError(
                _unreadable(self.method, self.path, f"did not have the expected shape ({validation_summary(exc)})"),
                status_code=self.status_code,
                method=self.method,
                path=self.path,
            ) from None


class HTTPCore:
    """Sends requests to telli and returns decoded bodies or raises `TelliError`s."""

    def __init__(
        self,
        *,
        api_key: SecretStr,
        base_url: str,
        timeout: float,
        max_retries: int,
        retry_deadline: float,
        transport: httpx2.AsyncBaseTransport | None,
        sleep: Sleep,
        rng: random.Random,
    ) -> None:
        self._api_key = api_key
        self._timeout = timeout
        self._max_retries = max_retries
        self._retry_deadline = retry_deadline
        self._sleep = sleep
        self._rng = rng
        self.base_url = base_url.rstrip("/")
        self._client = httpx2.AsyncClient(
            base_url=self.base_url,
            headers={
                "Authorization": f"Bearer {api_key.get_secret_value()}",
                "User-Agent": f"telli-mcp/{__version__}",
                "Accept": "application/json",
            },
            timeout=timeout,
            transport=transport,
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        json: Any = None,
        undocumented_body: bool = False,
    ) -> APIResponse:
        """Send one logical request, retrying it when the policy allows, and return the decoded 2xx body.

        `undocumented_body`: telli documents no response body for this endpoint, so a 2xx with an empty or
        plain-text body is success, and a body is read only when it is a JSON object (`data` is None otherwise).
        """
        retry_safe = method in SAFE_METHODS or (method == "POST" and path in READ_ONLY_POSTS)
        call = current_deadline()
        started = time.monotonic()
        slept = 0.0
        attempt = 0
        maybe_done = False
        while True:
            try:
                response = await self._attempt(method, path, params, json, undocumented_body, call)
            except (TelliAPIError, TelliConnectionError) as error:
                _note_change(call, method, path, error.maybe_processed)
                if maybe_done and method == "DELETE" and isinstance(error, TelliAPIError) and error.status_code == 404:
                    # An earlier attempt may have deleted it and lost the answer; gone is what DELETE wanted.
                    logger.info("Retried %s %s answered 404: the earlier attempt deleted it", method, path)
                    return APIResponse(204, None, method, path)
                maybe_done = maybe_done or error.maybe_processed
                # With an injected fake sleep the clock does not move, so the time slept also counts.
                elapsed = max(time.monotonic() - started, slept)
                delay = self._retry_delay(error, attempt, elapsed, call) if retry_safe else None
                if delay is None:
                    raise
                logger.info("Retrying %s %s in %.2f s (retry %d): %s", method, path, delay, attempt + 1, error)
                await self._sleep(delay)
                slept += delay
                attempt += 1
            except BaseException:
                # Cancelled mid-exchange, or a 2xx that cannot be read: telli may have acted either way.
                _note_change(call, method, path, True)
                raise
            else:
                _note_change(call, method, path, True)
                return response

    def _retry_delay(
        self, error: TelliAPIError | TelliConnectionError, attempt: int, elapsed: float, call: Deadline | None
    ) -> float | None:
        if attempt >= self._max_retries:
            return None
        retry_after: float | None = None
        if isinstance(error, TelliAPIError):
            if error.status_code not in RETRYABLE_STATUSES:
                return None
            retry_after = error.retry_after
        delay = retry_after if retry_after is not None else self._backoff(attempt)
        if call is not None and delay >= call.remaining():
            return None  # the retry could not even start before the work's deadline
        return delay if delay <= self._retry_deadline - elapsed else None

    def _backoff(self, attempt: int) -> float:
        return self._rng.uniform(0.0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt))

    async def _attempt(
        self,
        method: str,
        path: str,
        params: QueryParams | None,
        json: Any,
        undocumented_body: bool,
        call: Deadline | None,
    ) -> APIResponse:
        started = time.monotonic()
        response = await self._send(method, path, params, json, call)
        logger.debug(
            "telli %s %s -> %d (%.0f ms)",
            method,
            path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        if not response.is_success:
            raise self._status_error(response, method, path)
        return self._decode(response, method, path, undocumented_body)

    async def _send(
        self, method: str, path: str, params: QueryParams | None, json: Any, call: Deadline | None
    ) -> httpx2.Response:
        limit = self._timeout if call is None else min(self._timeout, call.remaining())
        if limit <= 0:
            # The work's deadline has passed: sending now could only be cut off unanswered.
            raise self._connection_error(httpx2.PoolTimeout("deadline passed"), method, path, cut_by=call)
        progress = _Progress()
        with anyio.move_on_after(limit):
            try:
                # Not streamed: the response comes back with its complete body, all inside `limit`.
                return await self._client.request(
                    method, path, params=params, json=json, extensions={"trace": progress}
                )
            except httpx2.TransportError as exc:
                raise self._connection_error(exc, method, path) from None
        cut_by = call if call is not None and limit < self._timeout else None
        raise self._connection_error(progress.stalled(limit), method, path, cut_by=cut_by)

    def _connection_error(
        self, exc: httpx2.TransportError, method: str, path: str, *, cut_by: Deadline | None = None
    ) -> TelliConnectionError:
        maybe_processed = not isinstance(exc, _NOT_SENT_ERRORS)
        request = f"{method} {path}"
        where = public_url(self.base_url)
        if cut_by is not None:
            headline = f"No answer from telli to {request} within {cut_by.describe()}"
        elif isinstance(exc, httpx2.TimeoutException) and maybe_processed:
            headline = f"Timed out after {self._timeout:g} s waiting for telli's answer to {request}"
        elif isinstance(exc, httpx2.TimeoutException):
            headline = f"Timed out after {self._timeout:g} s connecting to telli at {where} for {request}"
        elif maybe_processed:
            headline = f"The connection to telli at {where} failed during {request} ({self._detail(exc)})"
        else:
            headline = f"Could not reach telli at {where} for {request} ({self._detail(exc)})"
        note = outcome_note(maybe_processed=maybe_processed, method=method, path=path)
        if not maybe_processed:
            note = "the request was not sent"
        message = f"{headline}; {note}." if note else f"{headline}."
        if cut_by is not None or isinstance(exc, httpx2.TimeoutException):
            deadline = cut_by.describe() if cut_by is not None else None
            return TelliTimeoutError(
                message, maybe_processed=maybe_processed, method=method, path=path, deadline=deadline
            )
        return TelliConnectionError(message, maybe_processed=maybe_processed, method=method, path=path)

    def _detail(self, exc: httpx2.TransportError) -> str:
        return clip(self._scrub(plain_line(str(exc)))) or type(exc).__name__

    def _status_error(self, response: httpx2.Response, method: str, path: str) -> TelliAPIError:
        message, code, details = _error_fields(_json_or_none(response))
        if message is None:
            message = response.text
        # Cleaned before the key is masked, so that no invisible character can hide the key from the masking.
        return make_status_error(
            response.status_code,
            server_message=self._scrub(plain_line(message)) or None,
            code=self._scrub(plain_line(code)) if code else None,
            details=self._scrub_any(details),
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            method=method,
            path=path,
        )

    @staticmethod
    def _decode(response: httpx2.Response, method: str, path: str, undocumented_body: bool) -> APIResponse:
        if response.status_code == 204 or not response.content.strip():
            return APIResponse(response.status_code, None, method, path)
        if undocumented_body and _is_plain_text(response):
            # Such as "OK": telli documents no body here, so the 2xx status is the whole answer.
            return APIResponse(response.status_code, None, method, path)
        try:
            data = response.json()
        except ValueError:
            raise ResponseDecodeError(
                _unreadable(method, path, f"(HTTP {response.status_code}) is not valid JSON"),
                status_code=response.status_code,
                method=method,
                path=path,
            ) from None
        if undocumented_body and not isinstance(data, dict):
            data = None
        return APIResponse(response.status_code, data, method, path)

    def _scrub(self, text: str) -> str:
        key = self._api_key.get_secret_value()
        return text.replace(key, mask_key(key)) if key else text

    def _scrub_any(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._scrub(value)
        if isinstance(value, dict):
            return {k: self._scrub_any(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._scrub_any(v) for v in value]
        return value


class _Progress:
    """How far one exchange got, from httpcore's trace events (a transport that sends none tells nothing)."""

    def __init__(self) -> None:
        self.connecting = False
        self.sending = False

    async def __call__(self, event: str, info: dict[str, Any]) -> None:
        if event.endswith((".connect_tcp.started", ".connect_unix_socket.started", ".start_tls.started")):
            self.connecting = True
        elif event.endswith(".send_request_headers.started"):
            self.sending = True

    def stalled(self, seconds: float) -> httpx2.TimeoutException:
        """The httpx timeout a stalled exchange amounts to, so the one not-sent rule decides: stuck connecting,
        nothing was sent; anything else (including a transport that does not trace) may have reached telli."""
        text = f"no complete answer within {seconds:g} s"
        if self.connecting and not self.sending:
            return httpx2.ConnectTimeout(text)
        return httpx2.ReadTimeout(text)


def _note_change(call: Deadline | None, method: str, path: str, maybe_processed: bool) -> None:
    """Remember, for the work's deadline, a request that may have changed something at telli."""
    if call is not None and maybe_processed and may_change(method, path):
        call.changes.append(f"{method} {path}")


def _is_plain_text(response: httpx2.Response) -> bool:
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return media_type in ("", "text/plain")


def _unreadable(method: str, path: str, problem: str) -> str:
    """The message of a 2xx answer that cannot be read: telli accepted the request, so it may have acted."""
    note = outcome_note(maybe_processed=True, method=method, path=path)
    message = f"telli's answer to {method} {path} {problem}"
    return f"{message}; {note}." if note else f"{message}."


def _json_or_none(response: httpx2.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_fields(body: Any) -> tuple[str | None, str | None, dict[str, Any]]:
    """(message, code, details) from a v1 `{"message"}` or v2 `{"code", "message", "data"}` error body."""
    if not isinstance(body, dict):
        return None, None, {}
    message = body.get("message", body.get("error"))
    code = body.get("code")
    data = body.get("data")
    if isinstance(data, dict):
        details = data
    else:
        details = {k: v for k, v in body.items() if k not in ("message", "code", "error")}
    return (
        str(message) if message is not None else None,
        str(code) if code is not None else None,
        details,
    )
