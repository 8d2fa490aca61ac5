"""Exceptions raised by the telli client.

Every error the client raises derives from `TelliError`:

```
TelliError
├── TelliAPIError                 telli answered with a non-2xx status
│   ├── InvalidRequestError
│   │   ├── BadRequestError           400
│   │   └── UnprocessableEntityError  422
│   ├── AuthenticationError       401
│   ├── PaymentRequiredError      402
│   ├── PermissionDeniedError     403
│   ├── NotFoundError             404
│   ├── ConflictError             409
│   ├── RateLimitError            429
│   └── ServerError               5xx
├── TelliConnectionError          no (complete) response; `maybe_processed` says whether telli may have acted
│   └── TelliTimeoutError
├── ResponseDecodeError           a 2xx response whose body is not the JSON shape expected
├── PaginationError               a list endpoint returned a cursor it had returned before
├── MissingAPIKeyError            no API key configured
└── InputError                    a value was rejected locally, before any request was sent
```

An error about a request carries the facts a caller needs, so no layer above re-derives them from HTTP:
`method` and `path` (`request` names both), `maybe_processed` (telli may have acted on it) and
`may_have_changed` (it may also have changed something: `may_change`, the one rule for that). A `TelliAPIError`
also carries telli's own words (`server_message`, `code`), cleaned to one line and clipped. `str(error)` is a
finished one-line message for a person at a terminal; the MCP server writes its own text from the fields.

No error carries the API key: messages that come from telli are scrubbed before they are stored.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from telli_mcp.bounded import clip
from telli_mcp.text import plain_line

__all__ = [
    "READ_ONLY_POSTS",
    "UNKNOWN_OUTCOME",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InputError",
    "InvalidRequestError",
    "MissingAPIKeyError",
    "NotFoundError",
    "PaginationError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseDecodeError",
    "ServerError",
    "TelliAPIError",
    "TelliConnectionError",
    "TelliError",
    "TelliTimeoutError",
    "UnprocessableEntityError",
    "make_status_error",
    "may_change",
    "outcome_note",
]

READ_ONLY_POSTS = frozenset({"/v1/get-contacts-batch"})
"""POST endpoints that only read (telli takes the ids in the body): they change nothing and are safe to repeat."""
UNKNOWN_OUTCOME = "the request may or may not have been applied"
"""How a message says that telli may have changed something although the request failed."""


def may_change(method: str, path: str) -> bool:
    """Whether a request could change something at telli: anything but a GET or a read telli takes as POST."""
    return method.upper() != "GET" and path not in READ_ONLY_POSTS


def _may_have_changed(maybe_processed: bool, method: str | None, path: str | None) -> bool:
    # A request that cannot be named cannot be shown to be a read: assume it may have changed something.
    return maybe_processed and (method is None or path is None or may_change(method, path))


def outcome_note(*, maybe_processed: bool, method: str | None, path: str | None) -> str | None:
    """`UNKNOWN_OUTCOME` when a failed request may have changed something at telli, else None (for messages)."""
    return UNKNOWN_OUTCOME if _may_have_changed(maybe_processed, method, path) else None


class TelliError(Exception):
    """Base class of every error raised by the telli client.

    `method`/`path` name the request an error is about (None for errors raised before any request).
    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        maybe_processed: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.maybe_processed = maybe_processed

    @property
    def request(self) -> str | None:
        """The request as 'GET /v2/contacts/…', or None when the error is not about one request."""
        return f"{self.method} {self.path}" if self.method and self.path else None

    @property
    def may_have_changed(self) -> bool:
        """Whether telli may have changed something although this failed: the request may have been processed
        and it could change something (`may_change`)."""
        return _may_have_changed(self.maybe_processed, self.method, self.path)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class TelliAPIError(TelliError):
    """telli answered with a status code outside 2xx.

    `server_message`, `code` and `details` come from the body (v1 sends `{"message"}`, v2 `{"code", "message",
    "data"}`); `telli_said` quotes the part of them that says more than the status. A 5xx leaves open whether
    telli acted (`maybe_processed`); any other status means it did not.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        server_message: str | None = None,
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path, maybe_processed=_answered_maybe_processed(status_code))
        self.status_code = status_code
        self.code = code
        self.server_message = server_message
        self.details: dict[str, Any] = details or {}
        self.retry_after = retry_after

    @property
    def telli_said(self) -> str | None:
        """telli's own words where they add to the status (see `_telli_said`), or None."""
        return _telli_said(self.status_code, self.server_message, self.code)


def _answered_maybe_processed(status_code: int) -> bool:
    """Whether telli may have acted on a request it answered with this status: only a 5xx leaves it open."""
    return status_code >= 500


def _telli_said(status_code: int, message: str | None, code: str | None) -> str | None:
    """'telli said "Contact not found" (code X)', 'error code X' or None. A message or code that only repeats the
    status ("Not Found", NOT_FOUND) is left out, and so is a code that only repeats the message."""
    message = message if _adds(message, _phrase(status_code)) else None
    code = code if _adds(code, _phrase(status_code), message) else None
    if message and code:
        return f'telli said "{message}" (code {code})'
    if message:
        return f'telli said "{message}"'
    return f"error code {code}" if code else None


def _phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return ""


def _letters(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _adds(text: str | None, *said: str | None) -> bool:
    """Whether `text` says something beyond what `said` says already (compared by letters and digits only)."""
    return bool(text) and _letters(text or "") not in {_letters(other) for other in said if other}


class InvalidRequestError(TelliAPIError):
    """telli rejected the request's content (400 or 422)."""


class BadRequestError(InvalidRequestError):
    """400: invalid input, or (remove-from-auto-dialer) the contact is not in a dialer queue."""


class UnprocessableEntityError(InvalidRequestError):
    """422: the request was well formed but not acceptable, e.g. an unknown contact property key."""


class AuthenticationError(TelliAPIError):
    """401: the API key is missing, unknown or expired."""


class PaymentRequiredError(TelliAPIError):
    """402: the operation needs a paid telli plan."""


class PermissionDeniedError(TelliAPIError):
    """403: the API key is valid but may not perform this operation."""


class NotFoundError(TelliAPIError):
    """404: the resource does not exist (or was deleted)."""


class ConflictError(TelliAPIError):
    """409: the request conflicts with existing data, e.g. a duplicate external id."""


class RateLimitError(TelliAPIError):
    """429: too many requests; `retry_after` holds telli's Retry-After in seconds when it sent one."""


class ServerError(TelliAPIError):
    """5xx: telli failed; a request that creates or dials may or may not have been applied."""


class TelliConnectionError(TelliError):
    """No complete response was received.

    `maybe_processed` is True when the request may have reached telli (read/write timeout, broken response),
    False when it certainly did not (connection refused, connect or pool timeout).
    """

    def __init__(
        self, message: str, *, maybe_processed: bool, method: str | None = None, path: str | None = None
    ) -> None:
        super().__init__(message, method=method, path=path, maybe_processed=maybe_processed)


class TelliTimeoutError(TelliConnectionError):
    """The request timed out (see `maybe_processed`).

    `deadline` describes the overall deadline of the work (see `telli_mcp.client.deadlines`) when that, not the
    request's own timeout, cut it short or kept it from being sent.
    """

    def __init__(
        self,
        message: str,
        *,
        maybe_processed: bool,
        method: str | None = None,
        path: str | None = None,
        deadline: str | None = None,
    ) -> None:
        super().__init__(message, maybe_processed=maybe_processed, method=method, path=path)
        self.deadline = deadline


class ResponseDecodeError(TelliError):
    """A successful response could not be read: malformed JSON or an unexpected shape.

    telli answered 2xx, so it accepted the request: it may have acted on it (`maybe_processed` is True).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path, maybe_processed=True)
        self.status_code = status_code


class PaginationError(TelliError):
    """A list endpoint returned a cursor it had already returned, which would loop forever."""


class MissingAPIKeyError(TelliError):
    """No telli API key is configured."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "No telli API key configured. Set TELLI_API_KEY to the key from Settings > API & Webhooks "
            "in the telli app."
        )


class InputError(TelliError):
    """A value was rejected by the client before any request was sent."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


_STATUS_ERRORS: dict[int, type[TelliAPIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}

_SUMMARIES: dict[int, str] = {
    400: "telli rejected the request as invalid (400)",
    # The client cannot know where its key came from (a setting, a caller's header): the app is the source.
    401: "telli rejected the API key (401)",
    402: "This operation needs a paid telli plan (402)",
    403: "The API key may not do this (403)",
    404: "Not found (404)",
    409: "Conflict with existing data (409)",
    422: "telli could not process the request (422)",
    429: "telli rate limit reached (429)",
}

_REJECTED_KEY_ADVICE = "use a current key from the telli app (Settings > API & Webhooks)"


def _summary(status_code: int) -> str:
    if status_code >= 500:
        return f"telli server error ({status_code})"
    return _SUMMARIES.get(status_code, f"telli answered HTTP {status_code}")


def _advice(
    cls: type[TelliAPIError], status_code: int, retry_after: float | None, method: str | None, path: str | None
) -> str | None:
    """What to do, or what the failure means for telli's data, for the person reading the message."""
    if issubclass(cls, AuthenticationError):
        return _REJECTED_KEY_ADVICE
    if issubclass(cls, RateLimitError):
        return "retry later" if retry_after is None else f"retry after {retry_after:g} s"
    return outcome_note(maybe_processed=_answered_maybe_processed(status_code), method=method, path=path)


def _telli_text(text: str | None) -> str | None:
    """telli's words as stored: one line, no control or invisible characters, clipped (a body can be huge)."""
    cleaned = plain_line(text) if text else ""
    return clip(cleaned) if cleaned else None


def make_status_error(
    status_code: int,
    *,
    server_message: str | None,
    code: str | None = None,
    details: dict[str, Any] | None = None,
    retry_after: float | None = None,
    method: str | None = None,
    path: str | None = None,
) -> TelliAPIError:
    """Build the exception for a non-2xx response: the one status → exception table of the client.

    Its message reads 'Not found (404) on GET /v2/contacts/…: telli said "Contact not found".', ending with what
    to do, or what the failure means for telli's data, where there is something to say.
    """
    if status_code >= 500:
        cls: type[TelliAPIError] = ServerError
    else:
        cls = _STATUS_ERRORS.get(status_code, TelliAPIError)
    server_message, code = _telli_text(server_message), _telli_text(code)
    message = _summary(status_code) + (f" on {method} {path}" if method and path else "")
    said = _telli_said(status_code, server_message, code)
    if said:
        message += f": {said}"
    advice = _advice(cls, status_code, retry_after, method, path)
    return cls(
        f"{message}; {advice}." if advice else f"{message}.",
        status_code=status_code,
        code=code,
        server_message=server_message,
        details=details,
        retry_after=retry_after,
        method=method,
        path=path,
    )
