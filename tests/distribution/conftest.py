"""Distribution tests: manifests, client snippets, examples and the Dockerfile agree with the code."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
