"""Fixtures shared by every test directory."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may pick up a developer's or CI's TELLI_* settings (or a real key)."""
    for name in list(os.environ):
        if name.startswith("TELLI_"):
            monkeypatch.delenv(name)
