"""Cursor pagination as a pure function: every item exactly once, in order, and forged cursors refused."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telli_mcp.simulator.errors import ApiError
from telli_mcp.simulator.pagination import paginate


@given(size=st.integers(min_value=0, max_value=250), limit=st.integers(min_value=1, max_value=100))
def test_walking_the_pages_yields_every_item_once_in_order(size: int, limit: int) -> None:
    items = list(range(size))
    seen: list[int] = []
    cursor: str | None = None
    while True:
        page = paginate(items, scope="t", position=lambda n: [n], limit=limit, cursor=cursor)
        assert len(page.items) <= limit
        seen += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == items


@pytest.mark.parametrize(
    "payload",
    [
        {"s": "t", "k": ["not-a-number"]},  # well-formed, wrong key type
        {"s": "t"},  # no key
        {"s": "t", "k": 3},  # key not a list
    ],
)
def test_a_forged_cursor_is_a_400(payload: dict[str, object]) -> None:
    # The cursor format is private; this builds one by hand only to prove garbage is rejected.
    forged = base64.b64encode(b"\xfb\xff\xbf" + json.dumps(payload).encode()).decode()
    with pytest.raises(ApiError) as caught:
        paginate([1, 2, 3], scope="t", position=lambda n: [n], limit=1, cursor=forged)
    assert caught.value.status == 400
