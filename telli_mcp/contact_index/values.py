"""Property values as the index compares them: one text per value, the same for what telli keeps and what a
filter asks for.

A value is compared as telli keeps it: text with text, numbers with numbers, booleans with booleans ("5" is not
5, and "true" is not true), so a filter means what telli's data says. Numbers are compared by value (5 and 5.0 are
one). A multi-select value holds several values; it equals each of them. Absent, null, empty text and an empty
list are all "empty".
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from typing import Any, Final

__all__ = ["comparable", "stored_values"]

LONGEST_KEPT: Final = 200
"""Characters of a value's text kept as they are; a longer text is kept as its digest (`_indexable`): an index entry
has a size limit (PostgreSQL's btree about 2,700 bytes), and equality needs no more than the digest."""


def comparable(value: str | bool | int | float) -> str:
    """The text a filter's value is compared as."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        return json.dumps(value)
    return _indexable(json.dumps(value, ensure_ascii=False))


def stored_values(value: Any) -> Iterator[str]:
    """The texts a stored property value equals: none when it is empty, one per element of a multi-select."""
    if value is None:
        return
    if isinstance(value, str):
        if value.strip():
            yield comparable(value)
        return
    if isinstance(value, bool | int | float):
        yield comparable(value)
        return
    if isinstance(value, list):
        for item in value:  # a multi-select's options (duplicates are stored once)
            yield from stored_values(item) if not isinstance(item, list | dict) else [_opaque(item)]
        return
    yield _opaque(value)


def _opaque(value: Any) -> str:
    """An object (or a list inside a list): never equal to a scalar, and not empty."""
    return _indexable(json.dumps(value, sort_keys=True, ensure_ascii=False))


def _indexable(text: str) -> str:
    """`text`, or its SHA-256 when longer than `LONGEST_KEPT`: the same for a stored value and a filter's value,
    so equality is kept (a quoted JSON text never starts with "sha256:", so no short text is mistaken for one)."""
    if len(text) <= LONGEST_KEPT:
        return text
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
