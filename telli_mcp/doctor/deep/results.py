"""What the deep check found: one `EndpointResult` per documented read, gathered in a `DeepReport`.

The report is meant to be attached to a bug report, so it holds versions, statuses, field names, JSON types and
lengths, and never the key, an id, a name, a phone number or any other value from the account.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, computed_field

from telli_mcp.contract.responses import Finding

__all__ = ["DeepReport", "EndpointResult", "Outcome"]


class Outcome(StrEnum):
    OK = "ok"
    """The answer matches the contract (fields it does not know are listed as info)."""
    DRIFT = "drift"
    """telli answered, differently from the contract."""
    FAILED = "failed"
    """The request did not succeed (an error status, a timeout)."""
    NOT_CHECKED = "not checked"
    """Nothing to ask with (no calls yet), or the check stopped before it."""


class EndpointResult(BaseModel):
    operation: str
    """The contract's operationId, e.g. `list-contacts`."""
    endpoint: str
    """Method and path template, e.g. `GET /v2/contacts/{contactId}` (never the id that was asked for)."""
    outcome: Outcome
    status: int | None = None
    """The HTTP status telli answered with, when it answered."""
    detail: str = ""
    findings: list[Finding] = []


class DeepReport(BaseModel):
    package_version: str
    contract_version: str
    """The contract's `info.version`: which documented API the answers were compared with."""
    python: str
    platform: str
    target: str
    """The base URL without credentials or query, or the sandbox."""
    generated_at: str
    request_budget: int
    requests_sent: int
    """HTTP requests, retries included; all of them reads."""
    stopped: str | None = None
    """Why the check stopped before the end (a rejected key, a rate limit, the budget), or None."""
    endpoints: list[EndpointResult]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """No drift, no failure, and nothing left unchecked because the check stopped."""
        bad = (Outcome.DRIFT, Outcome.FAILED)
        return self.stopped is None and not any(result.outcome in bad for result in self.endpoints)

    def count(self, outcome: Outcome) -> int:
        return sum(result.outcome is outcome for result in self.endpoints)
