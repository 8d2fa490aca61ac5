"""The contract's JSON Schema validator: draft 2020-12 with the contract's string formats, and with `pattern` read
as ECMA-262 reads it, which is what JSON Schema and OpenAPI specify and what telli's servers do.

jsonschema matches a `pattern` with Python's `re`, whose `$` also matches before a final newline; ECMA-262's `$`
(without the multiline flag) matches only at the very end. So `^[a-z]+$` accepts "tier\\n" in Python and refuses
it in JavaScript. Here each `$` outside a character class is read as Python's `\\Z` (the end, and only the end);
the contract's patterns use nothing else on which the two dialects differ.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.protocols import Validator

from .formats import FORMAT_CHECKER

__all__ = ["contract_validator", "python_pattern"]


@cache
def python_pattern(ecma: str) -> re.Pattern[str]:
    """`ecma`, an ECMA-262 pattern as JSON Schema writes it, compiled to mean the same to Python's `re`."""
    out: list[str] = []
    escaped = in_class = False
    for char in ecma:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "$" and not in_class:
            char = r"\Z"
        out.append(char)
    return re.compile("".join(out))


def _pattern(validator: Validator, pattern: str, instance: Any, _schema: Any) -> Iterator[ValidationError]:
    # jsonschema's own check and wording, with the pattern read as ECMA-262 reads it.
    if validator.is_type(instance, "string") and not python_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# types-jsonschema leaves `extend` untyped; what it makes is a validator class like the one it extends.
_ContractValidator: type[Validator] = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, {"pattern": _pattern}
)


def contract_validator(schema: dict[str, Any]) -> Validator:
    """A validator of `schema` as the contract means it: its formats checked, its patterns read as ECMA-262."""
    return _ContractValidator(schema, format_checker=FORMAT_CHECKER)
