"""The contract document: telli's documented API as OpenAPI 3.1, loaded once, with its operations indexed.

Why OpenAPI and not schemas in Python: it is the format telli itself publishes (docs.telli.com/openapi.json),
so the day telli's own files can be read, the two compare field by field; and it is plain data that both the
simulator and `telli-mcp doctor --deep` read, while the client never does, so the client's models and this
oracle cannot share a mistake.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import unquote

from jsonschema.protocols import Validator

from .request_schema import RequestSchema
from .validator import contract_validator

__all__ = ["CONTRACT_FILE", "Contract", "Guess", "Operation", "Parameter", "load_contract"]

CONTRACT_FILE = "telli-openapi.json"
_METHODS = ("get", "post", "put", "patch", "delete")
_TEMPLATE_PARAM = re.compile(r"\{([^}]+)\}")

JsonSchema = dict[str, Any]


@dataclass(frozen=True)
class Parameter:
    """A path or query parameter and its compiled schema."""

    name: str
    location: str
    required: bool
    schema: JsonSchema
    validator: RequestSchema


@dataclass(frozen=True)
class Operation:
    """One documented endpoint: method, path template, parameters, request body and responses."""

    operation_id: str
    method: str
    path: str
    version: str
    path_params: dict[str, Parameter]
    query_params: dict[str, Parameter]
    exclusive_query: tuple[tuple[str, ...], ...]
    body_required: bool
    body_validator: RequestSchema | None
    responses: dict[int, JsonSchema | None]
    """Documented status -> body schema (None: no body; {} : a body whose shape is undocumented)."""
    undocumented_bodies: frozenset[int]
    read_only: bool
    _pattern: re.Pattern[str] = field(repr=False)

    def match(self, raw_path: str) -> dict[str, str] | None:
        """The decoded path parameters when `raw_path` (still percent-encoded) is this operation's path."""
        found = self._pattern.fullmatch(raw_path)
        if found is None:
            return None
        return {name: unquote(value) for name, value in found.groupdict().items()}


@dataclass(frozen=True)
class Guess:
    """A place where the reference says unknown and the contract had to choose."""

    where: str
    note: str


class Contract:
    """The loaded contract: find the operation of a request, and list the guesses."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resolved = _resolve(document, document)
        self.operations: list[Operation] = [
            _operation(path, method, spec)
            for path, item in resolved["paths"].items()
            for method, spec in item.items()
            if method in _METHODS
        ]

    def find(self, method: str, raw_path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation answering `method raw_path`, with its decoded path parameters."""
        for operation in self.operations:
            if operation.method != method.upper():
                continue
            params = operation.match(raw_path)
            if params is not None:
                return operation, params
        return None

    def operation(self, operation_id: str) -> Operation:
        """The operation with this `operationId`."""
        for operation in self.operations:
            if operation.operation_id == operation_id:
                return operation
        raise KeyError(operation_id)

    def guesses(self) -> list[Guess]:
        """Every `x-guess` note in the document, with a JSON-pointer-like location."""
        found: list[Guess] = []
        _collect_guesses(self.document, "", found)
        return found


@cache
def load_contract() -> Contract:
    """The contract shipped with the package (parsed once per process)."""
    text = resources.files(__package__).joinpath(CONTRACT_FILE).read_text(encoding="utf-8")
    return Contract(json.loads(text))


def compile_schema(schema: JsonSchema) -> Validator:
    """A validator for `schema` as the contract means it (`validator.contract_validator`), for answers, which are
    few and always explained; requests use `RequestSchema`."""
    return contract_validator(schema)


def _operation(path: str, method: str, spec: dict[str, Any]) -> Operation:
    params = [_parameter(raw) for raw in spec.get("parameters", [])]
    body = spec.get("requestBody")
    body_schema = body["content"]["application/json"]["schema"] if body else None
    responses: dict[int, JsonSchema | None] = {}
    undocumented: set[int] = set()
    for status, response in spec.get("responses", {}).items():
        content = response.get("content", {}).get("application/json")
        responses[int(status)] = content["schema"] if content else None
        if response.get("x-body-undocumented"):
            undocumented.add(int(status))
    return Operation(
        operation_id=spec["operationId"],
        method=method.upper(),
        path=path,
        version=path.split("/")[1],
        path_params={p.name: p for p in params if p.location == "path"},
        query_params={p.name: p for p in params if p.location == "query"},
        exclusive_query=tuple(tuple(group) for group in spec.get("x-exclusive-query", [])),
        body_required=bool(body and body.get("required")),
        body_validator=RequestSchema(body_schema) if body_schema is not None else None,
        responses=responses,
        undocumented_bodies=frozenset(undocumented),
        read_only=method == "get" or bool(spec.get("x-read-only")),
        _pattern=_path_pattern(path),
    )


def _parameter(raw: dict[str, Any]) -> Parameter:
    return Parameter(
        name=raw["name"],
        location=raw["in"],
        required=bool(raw.get("required")),
        schema=raw["schema"],
        validator=RequestSchema(raw["schema"]),
    )


def _path_pattern(template: str) -> re.Pattern[str]:
    pattern, position = "", 0
    for found in _TEMPLATE_PARAM.finditer(template):
        pattern += re.escape(template[position : found.start()]) + f"(?P<{found.group(1)}>[^/]+)"
        position = found.end()
    return re.compile(pattern + re.escape(template[position:]))


def _resolve(node: Any, root: dict[str, Any]) -> Any:
    """`node` with every local `$ref` replaced by its target (sibling keys such as notes are kept)."""
    if isinstance(node, list):
        return [_resolve(item, root) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = _pointer(root, node["$ref"])
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        return _resolve({**target, **siblings}, root)
    return {key: _resolve(value, root) for key, value in node.items()}


def _pointer(root: dict[str, Any], ref: str) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"only local references are supported, not {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    if not isinstance(node, dict):
        raise ValueError(f"{ref!r} does not point at an object")
    return node


def _collect_guesses(node: Any, where: str, found: list[Guess]) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("x-guess"), str):
            found.append(Guess(where or "/", node["x-guess"]))
        for key, value in node.items():
            _collect_guesses(value, f"{where}/{key.replace('~', '~0').replace('/', '~1')}", found)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _collect_guesses(value, f"{where}/{index}", found)
