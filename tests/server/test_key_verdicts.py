"""The HTTP edge remembers telli's verdict on a key for a while: one round trip per key, not per request."""

from __future__ import annotations

import pytest

from telli_mcp.server.http_auth import KeyVerdicts

pytestmark = pytest.mark.anyio


class _Telli:
    def __init__(self, verdicts: dict[str, bool | None]) -> None:
        self.verdicts = verdicts
        self.asked: list[str] = []

    async def verify(self, key: str) -> bool | None:
        self.asked.append(key)
        return self.verdicts[key]


async def test_verdicts_are_remembered_until_they_expire_and_unknown_ones_are_not() -> None:
    now = [0.0]
    telli = _Telli({"good": True, "bad": False, "unclear": None})
    verdicts = KeyVerdicts(telli.verify, accepted_for=300, rejected_for=30, clock=lambda: now[0])
    assert [await verdicts.rejected(key) for key in ("good", "bad", "unclear")] == [False, True, False]
    assert [await verdicts.rejected(key) for key in ("good", "bad", "unclear")] == [False, True, False]
    assert telli.asked == ["good", "bad", "unclear", "unclear"]  # an unknown verdict is asked again
    now[0] = 31.0  # a rejection is re-checked soon (the key may have been fixed in the telli app)
    telli.verdicts["bad"] = True
    assert await verdicts.rejected("bad") is False and await verdicts.rejected("good") is False
    assert telli.asked[-1] == "bad" and telli.asked.count("good") == 1


async def test_only_so_many_keys_are_remembered() -> None:
    telli = _Telli({f"key-{n}": True for n in range(5)})
    verdicts = KeyVerdicts(telli.verify, limit=3)
    for n in range(5):
        await verdicts.rejected(f"key-{n}")
    await verdicts.rejected("key-0")  # forgotten: the three most recent are kept
    await verdicts.rejected("key-4")
    assert telli.asked == ["key-0", "key-1", "key-2", "key-3", "key-4", "key-0"]
