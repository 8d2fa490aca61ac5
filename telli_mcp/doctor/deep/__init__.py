"""`telli-mcp doctor --deep`: compare the answers of the user's real telli account with the contract.

Nothing else in the project ever talks to the real telli, so this is where the contract (written from public
documentation with gaps) meets it. Reads only, a fixed request budget, and a report without personal data that
the user can attach to a bug report.
"""

from __future__ import annotations

import platform
import sys
from datetime import UTC, datetime

import anyio

from telli_mcp._version import __version__
from telli_mcp.client import TelliClient
from telli_mcp.contract.document import load_contract
from telli_mcp.doctor.deep.budget import BudgetSpent, RequestBudget, Sleep
from telli_mcp.doctor.deep.plan import LIST_LIMIT, run_plan
from telli_mcp.doctor.deep.probe import ReadOnlyProbe, WriteRefused
from telli_mcp.doctor.deep.results import DeepReport, EndpointResult, Outcome
from telli_mcp.doctor.deep.session import Session
from telli_mcp.doctor.deep.target import Target, target_for

__all__ = [
    "LIST_LIMIT",
    "REQUEST_BUDGET",
    "BudgetSpent",
    "DeepReport",
    "EndpointResult",
    "Outcome",
    "ReadOnlyProbe",
    "RequestBudget",
    "Target",
    "WriteRefused",
    "deep_check",
    "not_run",
    "target_for",
]

REQUEST_BUDGET = 20
"""HTTP requests at most, retries included: the 14 planned reads leave room for a few retries."""
RETRIES = 2
RETRY_DEADLINE_SECONDS = 30.0
"""A Retry-After longer than this stops the check instead of waiting (the report says so)."""


async def deep_check(target: Target, *, sleep: Sleep = anyio.sleep, budget: int = REQUEST_BUDGET) -> DeepReport:
    """Run every planned read against `target` and compare each answer with the contract."""
    contract = load_contract()
    spending = RequestBudget(budget, sleep)
    client = TelliClient(
        target.api_key,
        base_url=target.base_url,
        timeout=target.timeout,
        max_retries=RETRIES,
        retry_deadline=RETRY_DEADLINE_SECONDS,
        transport=target.transport,
        sleep=spending.sleep,
    )
    async with client:
        session = Session(ReadOnlyProbe(client, spending, contract), contract)
        await run_plan(session)
    return _report(target.label, session, spending)


async def not_run(label: str, reason: str) -> DeepReport:
    """The report when no request could be sent (no key, settings that do not load): every read unchecked."""
    contract = load_contract()
    session = Session(None, contract, stopped=reason)
    await run_plan(session)
    return _report(label, session, RequestBudget(REQUEST_BUDGET, anyio.sleep))


def _report(label: str, session: Session, budget: RequestBudget) -> DeepReport:
    return DeepReport(
        package_version=__version__,
        contract_version=str(load_contract().document["info"]["version"]),
        python=platform.python_version(),
        platform=sys.platform,
        target=label,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        request_budget=budget.limit,
        requests_sent=budget.used,
        stopped=session.stopped,
        endpoints=session.results,
    )
