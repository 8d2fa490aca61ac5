"""Tests of `telli-mcp doctor --deep` in-process, against the simulator's in-process transport."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
