"""Helpers of the deep-doctor tests: a seeded simulator, a sleep recorder, and the findings of a report."""

from __future__ import annotations

from pydantic import SecretStr

from telli_mcp.doctor.deep import DeepReport, Target, deep_check
from telli_mcp.simulator import DEMO_API_KEY, TelliSimulator

FindingKey = tuple[str, str, str, str]
"""(operation, kind, field, severity)"""

BASELINE: frozenset[FindingKey] = frozenset({("verify-api-key", "undocumented", "body", "info")})
"""What a faithful telli reports anyway: verify-api-key's body is not documented, so its shape is noted."""


class SleepRecorder:
    """Records the client's waits instead of waiting on the wall clock."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def demo_simulator() -> TelliSimulator:
    return TelliSimulator(api_keys=(DEMO_API_KEY,), seed_demo=True)


async def check(
    sim: TelliSimulator, *, key: str = DEMO_API_KEY, sleep: SleepRecorder | None = None, budget: int | None = None
) -> DeepReport:
    target = Target(SecretStr(key), "the simulator", transport=sim.transport())
    recorder = sleep or SleepRecorder()
    if budget is None:
        return await deep_check(target, sleep=recorder)
    return await deep_check(target, sleep=recorder, budget=budget)


def findings(report: DeepReport) -> set[FindingKey]:
    return {
        (result.operation, finding.kind, finding.field, finding.severity)
        for result in report.endpoints
        for finding in result.findings
    }


def outcomes(report: DeepReport) -> dict[str, str]:
    return {result.operation: str(result.outcome) for result in report.endpoints}
