"""Fixtures of the client tests: a fresh telli simulator per test, a client wired to it at the transport,
and a recorder standing in for `sleep` so retry tests never wait on the wall clock."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest
from client_helpers import SleepRecorder

from telli_mcp.client import TelliClient
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def sim() -> TelliSimulator:
    return TelliSimulator(api_keys=(TEST_API_KEY,), seed_demo=False)


@pytest.fixture
async def telli(sim: TelliSimulator, sleeps: SleepRecorder) -> AsyncIterator[TelliClient]:
    client = TelliClient(TEST_API_KEY, transport=sim.transport(), sleep=sleeps, rng=random.Random(7))
    async with client:
        yield client
