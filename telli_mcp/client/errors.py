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

No error carries the API key: messages that come from telli are scrubbed before they are stored.
"""

from __future__ import annotations

from typing import Any

__all__ = [
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
]


class TelliError(Exception):
    """Base class of every error raised by the telli client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class TelliAPIError(TelliError):
    """telli answered with a status code outside 2xx.

    `message` is the full, actionable text (also `str(error)`); `server_message`, `code` and `details` come
    from the body: v1 sends `{"message"}`, v2 `{"code", "message", "data"}`.
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
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.server_message = server_message
        self.details: dict[str, Any] = details or {}
        self.retry_after = retry_after
        self.method = method
        self.path = path


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
        super().__init__(message)
        self.maybe_processed = maybe_processed
        self.method = method
        self.path = path


class TelliTimeoutError(TelliConnectionError):
    """The request timed out (see `maybe_processed`).

    `deadline` describes the overall deadline of the work (see `telli_mcp.client.deadline`) when that, not the
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
    """A successful response could not be read: malformed JSON or an unexpected shape."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.method = method
        self.path = path


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
    401: "telli rejected the API key (401). Check TELLI_API_KEY: it must be a current key from "
    "Settings > API & Webhooks in the telli app",
    402: "This operation requires a paid telli plan (402)",
    403: "The API key does not have permission for this operation (403)",
    404: "Not found (404)",
    409: "Conflict with existing data (409)",
    422: "telli could not process the request (422)",
}


def _summary(status_code: int, retry_after: float | None, method: str | None) -> str:
    if status_code == 429:
        if retry_after is None:
            return "telli rate limit reached (429); retry later"
        return f"telli rate limit reached (429); retry after {retry_after:g} s"
    if status_code >= 500 and method == "POST":
        return f"telli server error ({status_code}); the request may or may not have been applied"
    if status_code >= 500:
        return f"telli server error ({status_code})"
    return _SUMMARIES.get(status_code, f"telli returned HTTP {status_code}")


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
    """Build the exception for a non-2xx response: the one status → exception table of the client."""
    if status_code >= 500:
        cls: type[TelliAPIError] = ServerError
    else:
        cls = _STATUS_ERRORS.get(status_code, TelliAPIError)
    parts = [_summary(status_code, retry_after, method)]
    if server_message:
        parts.append(f"telli said: {server_message}")
    if code:
        parts.append(f"code {code}")
    if method and path:
        parts.append(f"request {method} {path}")
    return cls(
        "; ".join(parts) + ".",
        status_code=status_code,
        code=code,
        server_message=server_message,
        details=details,
        retry_after=retry_after,
        method=method,
        path=path,
    )
