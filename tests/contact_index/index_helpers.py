"""Names the contact index tests share (their fixtures are in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

TENANT = "tenant-a"
"""The tenant the `index` fixture belongs to."""

AddContact = Callable[..., str]
"""The `add` fixture: create a contact in the simulated account, return its id."""
