"""Running the planned reads one by one: each request's answer becomes an `EndpointResult`, and a rejected
key, a rate limit telli wants honoured for longer than the doctor waits, an unreachable host or a spent budget
stop the run (every later endpoint is then "not checked", saying why)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from telli_mcp.client import (
    AuthenticationError,
    RateLimitError,
    TelliAPIError,
    TelliConnectionError,
    TelliError,
    TelliTimeoutError,
)
from telli_mcp.contract.document import Contract, Operation
from telli_mcp.contract.responses import Finding, check_response, status_finding
from telli_mcp.doctor.connection import REJECTED_KEY_ADVICE
from telli_mcp.doctor.deep.budget import BudgetSpent
from telli_mcp.doctor.deep.probe import ReadOnlyProbe
from telli_mcp.doctor.deep.results import EndpointResult, Outcome

__all__ = ["Session"]

_ERROR_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
"""A v2 error code as telli documents them; anything else might be text from the account and is not shown."""


class Session:
    def __init__(self, probe: ReadOnlyProbe | None, contract: Contract, *, stopped: str | None = None) -> None:
        """`probe` None: nothing may be sent (give the reason as `stopped`); every read is recorded unchecked."""
        self._probe = probe
        self._contract = contract
        self.results: list[EndpointResult] = []
        self.stopped = stopped

    async def check(
        self,
        operation_id: str,
        *,
        path_values: dict[str, str] | None = None,
        params: dict[str, str | int] | None = None,
        json: Any = None,
    ) -> Any:
        """Read one endpoint and record the result; the answer's body when telli answered 2xx, else None."""
        operation = self._contract.operation(operation_id)
        if self.stopped is not None or self._probe is None:
            self.skip(operation_id, "")
            return None
        try:
            answer = await self._probe.fetch(
                operation.method, _fill(operation.path, path_values or {}), params=params, json=json
            )
        except (TelliError, BudgetSpent) as error:
            self._failed(operation, error)
            return None
        findings = check_response(operation, answer.status, answer.body)
        drifted = any(finding.severity == "drift" for finding in findings)
        self._record(operation, Outcome.DRIFT if drifted else Outcome.OK, status=answer.status, findings=findings)
        return answer.body

    def skip(self, operation_id: str, reason: str) -> None:
        """Record an endpoint that was not asked, and why (e.g. "no calls yet"; after a stop, the stop's reason)."""
        if self.stopped is not None:
            reason = "the check had stopped"  # the report says why, once
        self._record(self._contract.operation(operation_id), Outcome.NOT_CHECKED, detail=reason)

    def _failed(self, operation: Operation, error: TelliError | BudgetSpent) -> None:
        stop = _stop_reason(error)
        if isinstance(error, BudgetSpent):
            self._record(operation, Outcome.NOT_CHECKED, detail=str(error))
        elif isinstance(error, AuthenticationError | RateLimitError):
            self._record(operation, Outcome.FAILED, status=error.status_code, detail=_api_detail(operation, error))
        elif isinstance(error, TelliAPIError):
            self._record(
                operation,
                Outcome.FAILED,
                status=error.status_code,
                detail=_api_detail(operation, error),
                findings=[status_finding(operation, f"HTTP {error.status_code}{_code(error)}")],
            )
        else:
            self._record(operation, Outcome.FAILED, detail=_other_detail(error))
        if stop is not None:
            self.stopped = stop

    def _record(
        self,
        operation: Operation,
        outcome: Outcome,
        *,
        status: int | None = None,
        detail: str = "",
        findings: list[Finding] | None = None,
    ) -> None:
        self.results.append(
            EndpointResult(
                operation=operation.operation_id,
                endpoint=f"{operation.method} {operation.path}",
                outcome=outcome,
                status=status,
                detail=detail,
                findings=findings or [],
            )
        )


def _fill(template: str, values: dict[str, str]) -> str:
    """The path template with each `{name}` replaced by its percent-encoded value."""
    for name, value in values.items():
        template = template.replace(f"{{{name}}}", quote(value, safe=""))
    return template


def _stop_reason(error: TelliError | BudgetSpent) -> str | None:
    """Why no further request may be sent after `error`, or None to go on with the next endpoint."""
    if isinstance(error, BudgetSpent):
        return str(error)
    if isinstance(error, AuthenticationError):
        return "telli rejected the key (401)"
    if isinstance(error, RateLimitError):
        return "telli asked to slow down (429)" + _retry_after(error)
    if isinstance(error, TelliConnectionError) and not isinstance(error, TelliTimeoutError):
        return "telli could not be reached"
    return None


def _api_detail(operation: Operation, error: TelliAPIError) -> str:
    if isinstance(error, AuthenticationError):
        return f"telli rejected the key (401): {REJECTED_KEY_ADVICE}"
    if isinstance(error, RateLimitError):
        return f"HTTP 429 after the retries the doctor allows{_retry_after(error)}: run it again later"
    code = f"code {error.code}, " if _code(error) else ""
    if error.status_code in operation.responses:
        return f"{code}a status the contract documents here"
    return f"{code}a status the contract does not document here"


def _other_detail(error: TelliError) -> str:
    if isinstance(error, TelliTimeoutError):
        return "timed out (TELLI_TIMEOUT_SECONDS)"
    if isinstance(error, TelliConnectionError):
        return "could not reach telli (check the network and TELLI_API_BASE_URL)"
    return type(error).__name__


def _code(error: TelliAPIError) -> str:
    return f" ({error.code})" if error.code and _ERROR_CODE.fullmatch(error.code) else ""


def _retry_after(error: RateLimitError) -> str:
    return f", Retry-After {error.retry_after:g} s" if error.retry_after is not None else ""
