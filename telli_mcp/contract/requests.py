"""Checking one request against the contract: path, query, Content-Type and body, before anything happens.

The answer is every problem found, each naming its field the way a caller writes it (`contacts[3].email`,
the query parameter `contactId`, the `Content-Type` header), so a rejected request says what to fix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from jsonschema import ValidationError

from .document import Contract, Operation, Parameter, load_contract
from .messages import describe_error, error_field, field_path, spelling_hint

__all__ = ["Location", "RequestCheck", "Violation", "check_request"]

Location = Literal["path", "query", "header", "body"]
_JSON_TYPES = ("application/json",)


@dataclass(frozen=True)
class Violation:
    """One way a request breaks the contract."""

    location: Location
    field: str
    """The offending field, parameter or header, e.g. `contacts[3].email`, `contactId`, `Content-Type`."""
    message: str


@dataclass(frozen=True)
class RequestCheck:
    """The outcome of checking a request: the operation it addressed (None: not a documented endpoint)."""

    operation: Operation | None
    violations: tuple[Violation, ...]

    @property
    def ok(self) -> bool:
        return not self.violations


def check_request(
    method: str,
    raw_path: str,
    query: list[tuple[str, str]],
    content_type: str | None,
    body: bytes,
    *,
    contract: Contract | None = None,
) -> RequestCheck:
    """Every contract violation of one request (`raw_path` still percent-encoded, `query` as sent)."""
    found = (contract or load_contract()).find(method, raw_path)
    if found is None:
        return RequestCheck(None, ())
    operation, path_values = found
    violations = [
        *_check_path(operation, path_values),
        *_check_query(operation, query),
        *_check_body(operation, content_type, body),
    ]
    return RequestCheck(operation, tuple(violations))


def _check_path(operation: Operation, values: dict[str, str]) -> list[Violation]:
    problems: list[Violation] = []
    for name, value in values.items():
        problem = _parameter_problem(operation.path_params[name], value)
        if problem:
            problems.append(Violation("path", name, problem))
    return problems


def _check_query(operation: Operation, query: list[tuple[str, str]]) -> list[Violation]:
    problems: list[Violation] = []
    seen: set[str] = set()
    for name, value in query:
        parameter = operation.query_params.get(name)
        if parameter is None:
            problems.append(Violation("query", name, _unknown_parameter(operation, name)))
        elif name in seen:
            problems.append(Violation("query", name, f"the query parameter {name} is given more than once"))
        else:
            problem = _parameter_problem(parameter, value)
            if problem:
                problems.append(Violation("query", name, problem))
        seen.add(name)
    for group in operation.exclusive_query:
        given = [name for name in group if name in seen]
        if len(given) > 1:
            problems.append(Violation("query", given[-1], f"filter by {' or by '.join(group)}, not both"))
    return problems


def _unknown_parameter(operation: Operation, name: str) -> str:
    known = sorted(operation.query_params)
    if not known:
        return f"unknown query parameter {name}: {operation.method} {operation.path} takes none"
    hint = spelling_hint(name, known)
    return f"unknown query parameter {name}{hint}; known: {', '.join(known)}"


def _parameter_problem(parameter: Parameter, raw: str) -> str | None:
    value: Any = raw
    if parameter.schema.get("type") == "integer":
        try:
            value = int(raw)
        except ValueError:
            return f"{parameter.name} must be an integer, got {raw!r}"
    error = _first_error(parameter.validator.iter_errors(value))
    return None if error is None else describe_error(error, parameter.name)


def _check_body(operation: Operation, content_type: str | None, body: bytes) -> list[Violation]:
    present = bool(body.strip())
    if operation.body_validator is None:
        if present:
            return [Violation("body", "body", f"{operation.method} {operation.path} takes no request body")]
        return []
    if not present:
        if operation.body_required:
            return [Violation("body", "body", "a JSON request body is required")]
        return []
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in _JSON_TYPES:
        seen = f"'{content_type}'" if content_type else "none"
        return [Violation("header", "Content-Type", f"Content-Type must be application/json, got {seen}")]
    try:
        document = json.loads(body)
    except ValueError:
        return [Violation("body", "body", "the request body is not valid JSON")]
    errors = sorted(operation.body_validator.iter_errors(document), key=_error_order)
    return [Violation("body", error_field(error), describe_error(error, error_field(error))) for error in errors]


def _first_error(errors: Any) -> ValidationError | None:
    ordered = sorted(errors, key=_error_order)
    return ordered[0] if ordered else None


def _error_order(error: ValidationError) -> tuple[str, str]:
    return field_path(error.absolute_path), str(error.validator)
