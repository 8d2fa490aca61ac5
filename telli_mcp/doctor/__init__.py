"""`telli-mcp doctor`: check the installation, the settings and the connection to telli, then print the
Claude Desktop config block for this machine.

Each check is a small function returning a `Check`; `diagnose` gathers them and `render` prints them, so the
logic is testable without parsing output. The API key never appears in the report, only its masked form.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import anyio

from telli_mcp.backend import ClientFactory, open_backend
from telli_mcp.config import Settings, resolve_data_dir
from telli_mcp.doctor.claude import claude_desktop
from telli_mcp.doctor.connection import check_connection, skipped_connection
from telli_mcp.doctor.database_check import check_database
from telli_mcp.doctor.render import render_json, render_text
from telli_mcp.doctor.results import Check, DoctorReport, Status
from telli_mcp.doctor.settings_checks import (
    check_base_url,
    check_env_placeholders,
    check_key,
    check_log_level,
    check_mode,
    check_placeholders,
    check_toolsets,
    load_settings,
)
from telli_mcp.doctor.system import check_data_dir, check_package, check_python
from telli_mcp.doctor.webhooks_check import check_webhooks

__all__ = [
    "JSON_TO_STDOUT",
    "Check",
    "DoctorReport",
    "Status",
    "diagnose",
    "main",
    "run_doctor",
    "run_doctor_command",
]

JSON_TO_STDOUT = "-"
"""`--json` without a file name (the `const` of the option in telli_mcp.cli)."""


async def _connection(settings: Settings, client_factory: ClientFactory | None) -> list[Check]:
    backend = open_backend(settings, sandbox_speed=0)
    # No retries: the doctor wants one honest, timed answer, not a minute of backoff against a dead host.
    factory = client_factory or backend.client_factory(max_retries=0)
    key = backend.api_key.get_secret_value() if backend.api_key is not None else ""
    async with factory(key) as client:
        return await check_connection(client, where=backend.label)


async def _settings_and_connection(settings: Settings, client_factory: ClientFactory | None) -> list[Check]:
    key, url = check_key(settings), check_base_url(settings)
    checks = [
        check_placeholders(settings),
        key,
        url,
        check_toolsets(settings),
        check_mode(settings),
        check_log_level(settings),
        check_data_dir(resolve_data_dir(settings)),
        check_webhooks(settings),
        await check_database(settings),
    ]
    if Status.FAIL in (key.status, url.status):
        return checks + skipped_connection("no usable API key or base URL")
    return checks + await _connection(settings, client_factory)


async def diagnose(
    load: Callable[[], Settings] = Settings, *, client_factory: ClientFactory | None = None
) -> DoctorReport:
    """Run every check. `load` builds the settings as the CLI would; `client_factory` replaces the network."""
    settings, loaded = load_settings(load)
    checks = [check_python(), check_package(), loaded]
    if settings is None:
        checks += [check_env_placeholders(), *skipped_connection("the settings did not load")]
        return DoctorReport(checks=checks, claude_desktop=claude_desktop(Settings.model_construct()))
    checks += await _settings_and_connection(settings, client_factory)
    return DoctorReport(checks=checks, claude_desktop=claude_desktop(settings))


def run_doctor(
    load: Callable[[], Settings] = Settings,
    *,
    as_json: bool = False,
    out: TextIO | None = None,
    client_factory: ClientFactory | None = None,
    json_path: str | None = None,
) -> int:
    """Diagnose, print (and write the JSON report to `json_path`), and return the exit code: 1 if any check
    failed, else 0."""
    report = anyio.run(lambda: diagnose(load, client_factory=client_factory))
    (out or sys.stdout).write(render_json(report) if as_json else render_text(report))
    if json_path is not None:
        Path(json_path).write_text(render_json(report), encoding="utf-8")
    return 0 if report.ok else 1


def run_doctor_command(load: Callable[[], Settings], *, deep: bool, json_target: str | None) -> int:
    """Run the doctor as its options say: `json_target` is None, JSON_TO_STDOUT, or a file to write."""
    if deep:
        from telli_mcp.doctor.deep.command import run_deep_doctor

        return run_deep_doctor(load, json_path=json_target)
    if json_target == JSON_TO_STDOUT:
        return run_doctor(load, as_json=True)
    return run_doctor(load, json_path=json_target)


def main(argv: list[str] | None = None) -> int:
    """`python -m telli_mcp.doctor [--sandbox] [--deep] [--json [FILE]]` (the same as `telli-mcp doctor`)."""
    from telli_mcp.cli import add_doctor_options

    parser = argparse.ArgumentParser(prog="telli-mcp doctor", description="Check telli-mcp's setup.")
    parser.add_argument("--sandbox", action="store_true", help="check against the built-in simulator (offline)")
    add_doctor_options(parser)
    args = parser.parse_args(argv)

    def load() -> Settings:
        settings = Settings()
        return settings.model_copy(update={"sandbox": True}) if args.sandbox else settings

    return run_doctor_command(load, deep=args.deep, json_target=args.json)
