"""A request's verdict is jsonschema's, word for word, although jsonschema-rs decides the requests that pass.

The danger of deciding with a second validator is a simulator kinder than its contract: jsonschema-rs saying
yes where jsonschema says no (its own, looser email or URI rules; a pattern read differently). So every schema
of every request part the contract has is fed values near its edges, chosen by hypothesis: each format's
near misses, patterns with a final newline or non-ASCII digits, lone surrogates, huge integers, nulls, unknown
and wrong-case fields. For each, `RequestSchema` must give exactly jsonschema's errors.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telli_mcp.contract import load_contract
from telli_mcp.contract.request_schema import RequestSchema

JsonSchema = dict[str, Any]

FORMAT_SAMPLES: dict[str, list[str]] = {
    "uuid": [
        "3c90c3cc-0d44-4b50-8888-8dd25736052a",
        "3C90C3CC-0D44-4B50-8888-8DD25736052A",
        "{3c90c3cc-0d44-4b50-8888-8dd25736052a}",
        "3c90c3cc0d444b5088888dd25736052a",
        "3c90c3cc-0d44-4b50-8888-8dd25736052a\n",
        "urn:uuid:3c90c3cc-0d44-4b50-8888-8dd25736052a",
    ],
    "e164": ["+15550123", "+4930901820", "15550123", "+1 555 0123", "+15550123\n", "+0555", "+١٥٥٥٠١٢٣", "+"],
    "email": ["ada@example.com", "a@b", "ada at example.com", "ada@example.com\n", "ada@@example.com", "@example.com"],
    "uri": [
        "https://crm.example.com/contacts/42",
        "mailto:ada@example.com",
        "sip:trunk.example.com",
        "crm record 42",
        "https://",
        "//crm.example.com",
        "https://crm.example.com/\n",
    ],
    "date": ["2026-12-01", "2026-02-30", "2026-12-1", "20261201", "2026-12-01\n", "2026-12-01T00:00:00Z"],
    "date-time": [
        "2026-12-01T10:00:00Z",
        "2026-12-01t10:00:00z",
        "2026-12-01T10:00:00.5+01:00",
        "2026-12-01T10:00:00",
        "2026-12-01 10:00:00Z",
        "2026-02-30T10:00:00Z",
        "2026-12-01T25:00:00Z",
        "2026-12-01T10:00:00Z\n",
    ],
    "iana-timezone": ["Europe/Berlin", "europe/berlin", "Mars/Olympus", "UTC", "Europe/Berlin\n", "../etc/passwd", ""],
}
TRICKY_TEXT = ["", " ", "tier", "-tier", "tier\n", "TIER", "ti er", "tïer", "١٢٣", "a" * 70, "\ud800", "\x00", "null"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(TRICKY_TEXT),
    st.text(max_size=12),
)
anything = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
)


def near(schema: JsonSchema) -> st.SearchStrategy[Any]:
    """Values at the edges of `schema`: mostly shaped like it, some of them anything at all."""
    return st.one_of(_shaped(schema), _shaped(schema), _shaped(schema), anything)


def _shaped(schema: JsonSchema) -> st.SearchStrategy[Any]:
    if "enum" in schema:
        return st.sampled_from([*schema["enum"], "other"])
    if "const" in schema:
        return st.just(schema["const"])
    types = schema.get("type")
    if types is None:
        return anything
    names = [types] if isinstance(types, str) else list(types)
    return st.one_of([_of_type(name, schema) for name in names])


def _of_type(name: str, schema: JsonSchema) -> st.SearchStrategy[Any]:
    if name == "object":
        return _object(schema)
    if name == "array":
        return st.lists(near(schema.get("items", {})), max_size=3)
    if name == "string":
        samples = FORMAT_SAMPLES.get(schema.get("format", ""), TRICKY_TEXT)
        return st.sampled_from(samples) | st.text(max_size=12)
    if name == "integer":
        edges = [schema.get(key) for key in ("minimum", "maximum") if key in schema]
        near_edges = [edge + step for edge in edges for step in (-1, 0, 1)]
        return st.sampled_from([*near_edges, 0, 2**64, 1.0, 1.5, True]) | st.integers()
    if name == "number":
        return st.floats(allow_nan=True) | st.integers()
    if name == "boolean":
        return st.sampled_from([True, False, 0, 1, "true"])
    return st.none()


@st.composite
def _object(draw: st.DrawFn, schema: JsonSchema) -> dict[str, Any]:
    properties: dict[str, JsonSchema] = schema.get("properties", {})
    required = set(schema.get("required", []))
    value: dict[str, Any] = {}
    for key, sub in properties.items():
        if key in required or draw(st.booleans()):
            value[key] = draw(near(sub))
    for pattern_key in schema.get("patternProperties", {}):
        if draw(st.booleans()):
            stem = pattern_key.strip("^$").split("[")[0]
            value[stem + draw(st.sampled_from(["tier", "Tier", "tier\n", "", "١"]))] = draw(anything)
    if draw(st.booleans()) and properties:
        key = draw(st.sampled_from(sorted(properties)))
        value[_miscased(key)] = draw(anything)
    if value and draw(st.integers(0, 3)) == 0:
        del value[draw(st.sampled_from(sorted(value)))]  # a required field missing, now and then
    return value


def _miscased(key: str) -> str:
    camel = "".join(part.capitalize() if index else part for index, part in enumerate(key.split("_")))
    return camel if camel != key else key.upper()


def _request_schemas() -> list[tuple[str, RequestSchema]]:
    found: list[tuple[str, RequestSchema]] = []
    for operation in load_contract().operations:
        if operation.body_validator is not None:
            found.append((f"{operation.operation_id}:body", operation.body_validator))
        for parameter in [*operation.path_params.values(), *operation.query_params.values()]:
            found.append((f"{operation.operation_id}:{parameter.name}", parameter.validator))
    return found


REQUEST_SCHEMAS = _request_schemas()


def _errors(errors: Any) -> list[tuple[list[Any], str]]:
    return sorted((list(error.absolute_path), error.message) for error in errors)


@pytest.mark.parametrize(("where", "check"), REQUEST_SCHEMAS, ids=[where for where, _ in REQUEST_SCHEMAS])
@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_request_part_gets_jsonschemas_verdict(where: str, check: RequestSchema, data: st.DataObject) -> None:
    instance = data.draw(near(check.schema), label=where)
    assert _errors(check.iter_errors(instance)) == _errors(check.explainer.iter_errors(instance))


def body_check(operation_id: str) -> RequestSchema:
    check = load_contract().operation(operation_id).body_validator
    assert check is not None
    return check


@pytest.mark.parametrize(
    ("operation_id", "body", "field"),
    [
        # jsonschema-rs alone accepts each of these (its own email and URI rules are looser than the contract's).
        ("add-contact", {"external_contact_id": "x", "first_name": "A", "last_name": "L",
                         "phone_number": "+15550123", "email": "a@b"}, "email"),
        ("add-contact", {"external_contact_id": "x", "first_name": "A", "last_name": "L",
                         "phone_number": "+15550123", "external_url": "mailto:a@b.example"}, "external_url"),
    ],
)  # fmt: skip
def test_the_contracts_own_format_rules_decide(operation_id: str, body: dict[str, Any], field: str) -> None:
    errors = list(body_check(operation_id).iter_errors(body))
    assert [error.absolute_path[-1] for error in errors] == [field]


def test_a_value_the_fast_validator_cannot_read_is_still_checked() -> None:
    """A lone surrogate cannot be handed to Rust; jsonschema decides instead of the request being waved through
    or the check failing."""
    body = {"key": "tier\ud800", "dataType": "string", "label": "Tier"}
    errors = list(body_check("create-contact-property").iter_errors(body))
    assert [error.absolute_path[-1] for error in errors] == ["key"]
    assert list(body_check("create-contact-property").iter_errors({**body, "key": "tier", "label": "T\ud800"})) == []


def test_a_final_newline_breaks_a_pattern_as_ecma_262_reads_it() -> None:
    """Python's `$` matches before a final newline and ECMA-262's (what JSON Schema specifies, and what telli's
    servers use) does not: the stand-in refuses `tier\n` as a property key, naming the field, like `tier!`."""
    check = body_check("create-contact-property")
    for key in ("tier\n", "tier!", "\ntier"):
        errors = list(check.iter_errors({"key": key, "dataType": "string", "label": "Tier"}))
        assert [(error.absolute_path[-1], error.validator) for error in errors] == [("key", "pattern")], key
    assert list(check.iter_errors({"key": "tier", "dataType": "string", "label": "Tier"})) == []
