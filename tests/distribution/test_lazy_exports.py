"""The packages whose names load on first use (`telli_mcp.lazy`) export exactly what they declare, and each
name is the object its module defines."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from telli_mcp.lazy import _declared_exports

LAZY_PACKAGES = ("telli_mcp", "telli_mcp.client", "telli_mcp.campaigns", "telli_mcp.server", "telli_mcp.simulator")


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_every_declared_name_is_exported_and_resolves_to_its_module(name: str) -> None:
    package = importlib.import_module(name)
    declared = _declared_exports(Path(package.__file__ or "").read_text(encoding="utf-8"))
    assert set(package.__all__) - {"__version__"} == set(declared)
    for exported, (module, original) in declared.items():
        assert getattr(package, exported) is getattr(importlib.import_module(module), original), exported


def test_an_unknown_name_is_an_attribute_error_naming_the_package() -> None:
    client = importlib.import_module("telli_mcp.client")
    with pytest.raises(AttributeError, match=r"'telli_mcp\.client' has no attribute 'TelliClinet'"):
        client.TelliClinet  # noqa: B018
