"""The one exception route handlers raise; rendered as v1 `{"message"}` or v2 `{"code","message","data"}`."""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from telli_mcp.contract import Violation

__all__ = ["ApiError", "bad_request", "contract_error", "default_code", "not_found"]


@dataclass
class ApiError(Exception):
    """An HTTP error answer. `code` and `data` only appear in v2 bodies (v1 errors carry only a message)."""

    status: int
    message: str
    code: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)
        if not self.code:
            self.code = default_code(self.status)

    def v1_body(self) -> dict[str, Any]:
        return {"message": self.message}

    def v2_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data:
            body["data"] = self.data
        return body


def default_code(status: int) -> str:
    """[I] v2 error code for a status without a more specific one: the reason phrase in UPPER_SNAKE."""
    overrides = {400: "VALIDATION_ERROR", 429: "RATE_LIMITED", 500: "INTERNAL_ERROR"}
    if status in overrides:
        return overrides[status]
    try:
        return HTTPStatus(status).phrase.upper().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "ERROR"


def not_found(what: str, code: str = "NOT_FOUND") -> ApiError:
    return ApiError(404, f"{what} not found", code)


def bad_request(message: str, *, field_name: str | None = None) -> ApiError:
    """[I] v2 validation errors carry the offending field as `data.field`."""
    return ApiError(400, message, "VALIDATION_ERROR", {"field": field_name} if field_name else {})


def contract_error(violations: Sequence[Violation]) -> ApiError:
    """[I] A request that breaks the contract: 400, the first problem in the message, all of them in `data`."""
    first = violations[0]
    more = len(violations) - 1
    message = first.message if not more else f"{first.message} (and {more} more problem{'s' if more > 1 else ''})"
    errors = [{"field": v.field, "in": v.location, "message": v.message} for v in violations]
    return ApiError(400, message, "VALIDATION_ERROR", {"field": first.field, "errors": errors})
