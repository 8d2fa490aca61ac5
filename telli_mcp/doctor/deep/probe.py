"""The only way the deep check talks to telli: reads the contract marks read-only, within the budget.

Raw JSON, not the client's models: a model would hide an unknown field and reject a renamed one, and the point
is to see both. Retries, Retry-After and error mapping are the client's (`TelliClient.fetch_raw`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telli_mcp.client import ResponseDecodeError, TelliClient
from telli_mcp.contract.document import Contract, Operation
from telli_mcp.contract.responses import Unparsed
from telli_mcp.doctor.deep.budget import RequestBudget

__all__ = ["Answer", "ReadOnlyProbe", "WriteRefused"]


class WriteRefused(Exception):
    """A request the contract does not mark read-only (or does not know): the deep check never sends it."""


@dataclass(frozen=True)
class Answer:
    """A 2xx answer: its status and body (parsed JSON, or an `Unparsed`)."""

    status: int
    body: Any


class ReadOnlyProbe:
    def __init__(self, client: TelliClient, budget: RequestBudget, contract: Contract) -> None:
        self._client = client
        self._budget = budget
        self._contract = contract

    def operation(self, method: str, raw_path: str) -> Operation:
        """The read-only operation `method raw_path` addresses; WriteRefused for anything else."""
        found = self._contract.find(method, raw_path)
        if found is None:
            raise WriteRefused(f"{method} {raw_path} is not an endpoint of the contract")
        if not found[0].read_only:
            raise WriteRefused(f"{method} {found[0].path} is not read-only")
        return found[0]

    async def fetch(
        self, method: str, raw_path: str, *, params: dict[str, str | int] | None = None, json: Any = None
    ) -> Answer:
        """Send one read; telli's errors propagate as the client's `TelliError`s, an empty budget as BudgetSpent."""
        self.operation(method, raw_path)
        self._budget.spend()
        try:
            response = await self._client.fetch_raw(method, raw_path, params=params, json=json)
        except ResponseDecodeError as error:
            return Answer(error.status_code or 200, Unparsed.NOT_JSON)
        return Answer(response.status_code, Unparsed.EMPTY if response.data is None else response.data)
