"""`telli-mcp doctor --deep [--json FILE] [--sandbox]`: settings first, then the reads, then the report."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import anyio

from telli_mcp.backend import open_backend
from telli_mcp.config import Settings
from telli_mcp.doctor import JSON_TO_STDOUT
from telli_mcp.doctor.deep import Target, deep_check, not_run, target_for
from telli_mcp.doctor.deep.budget import Sleep
from telli_mcp.doctor.deep.render import render_json, render_text
from telli_mcp.doctor.deep.results import DeepReport
from telli_mcp.doctor.results import Status
from telli_mcp.doctor.settings_checks import check_base_url, check_key, load_settings

__all__ = ["run_deep_doctor"]


def run_deep_doctor(
    load: Callable[[], Settings] = Settings,
    *,
    json_path: str | None = None,
    out: TextIO | None = None,
    target: Target | None = None,
    sleep: Sleep | None = None,
) -> int:
    """Check, print (and write `json_path`), and return the exit code: 1 on drift or failure, else 0."""
    stream = out or sys.stdout
    report = anyio.run(lambda: _run(load, target, sleep or anyio.sleep))
    if json_path == JSON_TO_STDOUT:  # `--json` without a file name: the JSON instead of the text
        stream.write(render_json(report))
        return 0 if report.ok else 1
    stream.write(render_text(report))
    if json_path is not None:
        try:
            Path(json_path).write_text(render_json(report), encoding="utf-8")
        except OSError as err:
            stream.write(f"Could not write {json_path}: {err.strerror or type(err).__name__}\n")
            return 1
        stream.write(f"Report written to {json_path}: attach it to your bug report.\n")
    return 0 if report.ok else 1


async def _run(load: Callable[[], Settings], target: Target | None, sleep: Sleep) -> DeepReport:
    if target is not None:
        return await deep_check(target, sleep=sleep)
    settings, loaded = load_settings(load)
    if settings is None:
        return await not_run("telli", f"the settings did not load ({loaded.detail})")
    backend = open_backend(settings, sandbox_speed=0)
    for check in (check_key(settings), check_base_url(settings)):
        if check.status is Status.FAIL:
            return await not_run(backend.label, f"{check.name}: {check.detail}")
    return await deep_check(target_for(backend), sleep=sleep)
