"""Fixtures of the deployment tests: the served simulator, and replicas behind HAProxy sharing a PostgreSQL schema.

The simulator is served in a thread of the test process, so its request log and its accounts are what telli
received and holds. Without HAProxy or PostgreSQL the tests skip, saying how to get them; in CI (CI=true) they fail
instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from deployment import Deployment, deployed, find_haproxy
from postgres_helpers import postgres_url  # noqa: F401  # the fixture, for the tests here
from process_helpers import serving

from telli_mcp.simulator import TEST_API_KEY, TelliSimulator

REPLICAS = 2


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _need_haproxy() -> str:
    haproxy = find_haproxy()
    if haproxy is not None:
        return haproxy
    message = "needs HAProxy: `sudo apt-get install -y haproxy` (Debian's package; .ci/run installs it when missing)"
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(f"{message} (in CI a missing HAProxy is a failure, not a skip)")
    pytest.skip(message)


@pytest.fixture
def sim() -> TelliSimulator:
    return TelliSimulator(api_keys=(TEST_API_KEY,), seed_demo=True, threaded_checks=True)


@pytest.fixture
def sim_url(sim: TelliSimulator) -> Iterator[str]:
    with serving(sim.app) as url:
        yield url


@pytest.fixture
def replica_env() -> dict[str, str]:
    """Settings every replica gets beyond the shared ones; a test module overrides this fixture to add its own."""
    return {}


@pytest.fixture
def deployment(
    postgres_url: str,  # noqa: F811  # the fixture above
    sim_url: str,
    replica_env: dict[str, str],
    tmp_path: Path,
) -> Iterator[Deployment]:
    haproxy = _need_haproxy()
    env = {"TELLI_MCP_LOG_LEVEL": "INFO", **replica_env}  # INFO: uvicorn's access log, what each replica answered
    with deployed(
        replicas=REPLICAS, sim_url=sim_url, database_url=postgres_url, workdir=tmp_path, haproxy=haproxy, env=env
    ) as running:
        yield running
