"""Printing a `DoctorReport`: aligned PASS/WARN/FAIL lines and the config block, or one JSON document."""

from __future__ import annotations

import json

from telli_mcp.doctor.results import DoctorReport, Status

__all__ = ["render_json", "render_text"]

_WIDTH = 12


def _summary(report: DoctorReport) -> str:
    failed = sum(check.status is Status.FAIL for check in report.checks)
    warned = sum(check.status is Status.WARN for check in report.checks)
    if failed:
        return f"{failed} check(s) failed, {warned} warning(s): fix the FAIL lines above."
    if warned:
        return f"Everything needed works; {warned} warning(s) to look at."
    return "All checks passed."


def render_text(report: DoctorReport) -> str:
    lines = ["telli-mcp doctor", ""]
    lines += [f"{check.status:<4}  {check.name:<{_WIDTH}}  {check.detail}" for check in report.checks]
    desktop = report.claude_desktop
    lines += ["", _summary(report), "", f'Claude Desktop: merge this into "mcpServers" of {desktop.config_path}']
    if desktop.note:
        lines.append(f"({desktop.note})")
    lines.append(json.dumps(desktop.config, indent=2))
    return "\n".join(lines) + "\n"


def render_json(report: DoctorReport) -> str:
    document = {"ok": report.ok, **report.model_dump(mode="json")}
    return json.dumps(document, indent=2) + "\n"
