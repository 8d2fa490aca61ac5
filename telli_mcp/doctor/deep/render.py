"""Printing a `DeepReport`: one line per endpoint with its findings indented below, or one JSON document."""

from __future__ import annotations

import json

from telli_mcp.contract.responses import Finding
from telli_mcp.doctor.deep.results import DeepReport, EndpointResult, Outcome

__all__ = ["ATTACH_ADVICE", "render_json", "render_text"]

ATTACH_ADVICE = (
    "run `telli-mcp doctor --deep --json report.json` and attach report.json to your bug report "
    "(it holds no key and no personal data)"
)
_OUTCOME_WIDTH = 11
_OPERATION_WIDTH = 30
_KIND_WIDTH = 12


def render_text(report: DeepReport) -> str:
    lines = [
        f"telli-mcp doctor --deep (telli-mcp {report.package_version}, contract {report.contract_version})",
        f"Target: {report.target}; {report.requests_sent} request(s) of a budget of {report.request_budget}, "
        "reads only.",
        "",
    ]
    for result in report.endpoints:
        lines.append(_endpoint_line(result))
        lines += [
            f"{'':<{_OUTCOME_WIDTH}}  {finding.severity:<5}  {_finding_text(finding)}" for finding in result.findings
        ]
    lines += ["", _summary(report)]
    if report.stopped:
        lines.append(f"Stopped early: {report.stopped}.")
    if _drifted(report):
        lines.append(f"To report it: {ATTACH_ADVICE}.")
    return "\n".join(lines) + "\n"


def render_json(report: DeepReport) -> str:
    return json.dumps(report.model_dump(mode="json"), indent=2) + "\n"


def _endpoint_line(result: EndpointResult) -> str:
    answered = f"HTTP {result.status}" if result.status is not None else ""
    detail = "; ".join(part for part in (answered, result.detail) if part)
    head = f"{result.outcome:<{_OUTCOME_WIDTH}}  {result.operation:<{_OPERATION_WIDTH}}  {result.endpoint}"
    return f"{head}  ({detail})" if detail else head


def _finding_text(finding: Finding) -> str:
    places = f" [in {finding.count} places]" if finding.count > 1 else ""
    if finding.kind == "unknown":
        said = f"not in the contract; seen {finding.seen}"
    elif finding.kind == "undocumented":
        said = f"not documented; seen {finding.seen}"
    elif finding.kind == "missing":
        said = f"expected {finding.expected}; absent"
    else:
        said = f"expected {finding.expected}; seen {finding.seen}"
    return f"{finding.kind:<{_KIND_WIDTH}}  {finding.field}: {said}{places}"


def _summary(report: DeepReport) -> str:
    counts = ", ".join(f"{report.count(outcome)} {outcome}" for outcome in Outcome)
    if report.ok:
        return f"telli answers as the contract says ({counts})."
    if report.requests_sent == 0:
        return f"Nothing was checked ({counts})."
    return f"telli's answers differ from the contract, or could not be read ({counts})."


def _drifted(report: DeepReport) -> bool:
    """Whether there is something for the maintainers (a rejected key or a network failure is the user's to fix)."""
    return any(finding.severity == "drift" for result in report.endpoints for finding in result.findings)
