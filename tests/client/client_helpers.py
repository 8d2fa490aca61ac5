"""Helpers of the client tests: a sleep recorder and fictional contact data."""

from __future__ import annotations

from telli_mcp.client import ContactCreate


class SleepRecorder:
    """Records requested delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def berlin_number(index: int) -> str:
    """A distinct fictional Berlin number per index."""
    return f"+4930{1_000_000 + index}"


def contact_params(index: int, **changes: object) -> ContactCreate:
    fields: dict[str, object] = {
        "first_name": "Erika",
        "last_name": f"Muster{index}",
        "phone_number": berlin_number(index),
        "external_id": f"crm-{index}",
    }
    fields.update(changes)
    return ContactCreate.model_validate(fields)
