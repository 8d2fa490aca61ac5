"""The `telli-mcp` command: run the MCP server (stdio or HTTP), the sandbox, or the telli simulator.

The API key is read only from the environment (TELLI_API_KEY), never from the command line, so it never
shows up in process listings or shell history. Imports are lazy to keep start-up fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import SecretStr

from telli_mcp._version import __version__
from telli_mcp.cli_flags import add_sandbox_flag

if TYPE_CHECKING:
    from telli_mcp.config import Settings

__all__ = ["add_doctor_options", "main"]

MIN_STATE_SECRET_BYTES = 32
"""The MCP SDK's minimum for request-state keys; shorter ones make it raise while the server is being built."""

SIMULATOR_SECRET_ENV = "TELLI_SIMULATOR_WEBHOOK_SECRET"
"""The served simulator's webhook signing secret: from the environment, like every secret."""

DESCRIPTION = "MCP server for telli, the AI voice-agent platform. The API key comes from TELLI_API_KEY."


def _serve_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--transport",
        choices=["stdio", "http"],
        default="stdio",
        help="stdio for Claude Desktop and most clients (default); http for streamable HTTP",
    )
    parser.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000); the endpoint is /mcp")
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="run against the built-in telli simulator with demo data (no account needed)",
    )
    parser.add_argument(
        "--read-only", action="store_true", default=None, help="register read tools only (env TELLI_MCP_READ_ONLY)"
    )
    parser.add_argument("--toolsets", help="comma-separated: default, all, or names (env TELLI_MCP_TOOLSETS)")
    parser.add_argument(
        "--confirm",
        choices=["auto", "elicit", "token", "off"],
        help="how calls and deletes get the user's yes (env TELLI_MCP_CONFIRM)",
    )
    parser.add_argument("--log-level", help="stderr log level (env TELLI_MCP_LOG_LEVEL)")


def add_doctor_options(parser: argparse.ArgumentParser) -> None:
    """`--deep` and `--json [FILE]`, shared with `python -m telli_mcp.doctor` (defined here: importing
    telli_mcp.doctor would slow every start of the server)."""
    parser.add_argument(
        "--deep",
        action="store_true",
        help="also compare your telli account's answers with telli-mcp's contract of the API "
        "(reads only, at most 20 requests); attach its --json report to bug reports",
    )
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        default=None,
        metavar="FILE",
        help="print the report as JSON, or with FILE write it there",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="telli-mcp", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"telli-mcp {__version__}")
    _serve_parser(parser)
    commands = parser.add_subparsers(dest="command")
    simulator = commands.add_parser("simulator", help="run the telli API simulator as an HTTP server")
    simulator.add_argument("--host", default="127.0.0.1")
    simulator.add_argument("--port", type=int, default=8787)
    simulator.add_argument(
        "--speed",
        type=float,
        default=60.0,
        help="simulated seconds per real second (default 60; 0: time stands still until POST /_sim/advance)",
    )
    simulator.add_argument("--no-demo-data", action="store_true", help="start with empty accounts")
    simulator.add_argument(
        "--webhook-url",
        help=f"POST signed call_ended and contact_status_changed events there; secret from {SIMULATOR_SECRET_ENV}",
    )
    simulator.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="accept this key as one account (repeatable; each key is its own tenant); "
        "default: the demo key telli-sandbox-demo-key",
    )
    doctor = commands.add_parser(
        "doctor",
        help="check Python, the key, the connection, toolsets and the data "
        "dir, and print the Claude Desktop config block",
    )
    add_sandbox_flag(doctor, "check against the built-in simulator (works offline)")
    add_doctor_options(doctor)
    from telli_mcp.campaign_cli import add_campaign_parser
    from telli_mcp.dnc_cli import add_dnc_parser
    from telli_mcp.webhooks_cli import add_webhooks_parser

    add_campaign_parser(commands)
    add_dnc_parser(commands)
    add_webhooks_parser(commands)
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    overrides: dict[str, object] = {}
    if args.read_only:
        overrides["read_only"] = True
    # `is not None`: an explicitly empty `--toolsets ""` is an error, not "use the default".
    if args.toolsets is not None:
        overrides["toolsets"] = tuple(t.strip() for t in args.toolsets.split(",") if t.strip())
    if args.confirm:
        overrides["confirm"] = args.confirm
    if args.log_level is not None:
        overrides["log_level"] = args.log_level
    if args.sandbox:
        overrides["sandbox"] = True
    return overrides


def _settings(args: argparse.Namespace) -> Settings:
    """The environment's settings with the flags applied; raises pydantic's `ValidationError` (the doctor
    reports that as a failed check, the other commands as one line on stderr)."""
    from telli_mcp.config import Settings, with_overrides

    return with_overrides(Settings(), _overrides(args))


def _fail(message: str) -> int:
    """A setup error: one line on stderr and exit status 2 (argparse's status for bad usage), no traceback."""
    print(f"telli-mcp: {message}", file=sys.stderr)
    return 2


def _startup_settings(args: argparse.Namespace) -> Settings | str:
    """The settings, or the one-line description of what is wrong with them."""
    from pydantic import ValidationError

    from telli_mcp.config import describe_invalid

    try:
        return _settings(args)
    except ValidationError as err:
        return describe_invalid(err)


def _toolsets_problem(settings: Settings, args: argparse.Namespace) -> str | None:
    from telli_mcp.config import CLI_FLAGS, env_var
    from telli_mcp.toolsets import UnknownToolsetError, resolve_toolsets

    try:
        resolve_toolsets(settings.toolsets)
    except UnknownToolsetError as err:
        label = CLI_FLAGS["toolsets"] if args.toolsets is not None else env_var("toolsets")
        return f"{label}={','.join(settings.toolsets)!r} is not valid; {err}"
    return None


def _state_secret_problem(settings: Settings) -> str | None:
    from telli_mcp.config import env_var

    secret = settings.state_secret
    if secret is None or len(secret.get_secret_value().encode()) >= MIN_STATE_SECRET_BYTES:
        return None
    return (
        f"{env_var('state_secret')}=(hidden) is not valid; allowed: at least {MIN_STATE_SECRET_BYTES} bytes, "
        'e.g. from: python -c "import secrets; print(secrets.token_hex(32))"'
    )


def _serve(args: argparse.Namespace) -> int:
    from telli_mcp.serve import run_server

    settings = _startup_settings(args)
    if isinstance(settings, str):
        return _fail(settings)
    problem = _toolsets_problem(settings, args) or _state_secret_problem(settings)
    if problem is not None:
        return _fail(problem)
    logging.basicConfig(
        level=settings.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    run_server(settings, transport=args.transport, host=args.host, port=args.port)
    return 0


def _simulator(args: argparse.Namespace) -> int:
    from telli_mcp.simulator import DEMO_API_KEY
    from telli_mcp.simulator.serve import run_simulator

    keys = tuple(args.api_keys or (DEMO_API_KEY,))
    if args.speed < 0:
        return _fail("--speed must not be negative")
    secret = os.environ.get(SIMULATOR_SECRET_ENV)
    if args.webhook_url is not None and not secret:
        return _fail(f"--webhook-url needs the signing secret (whsec_...) in {SIMULATOR_SECRET_ENV}")
    print(f"telli simulator on http://{args.host}:{args.port} with {len(keys)} account(s)", file=sys.stderr)
    run_simulator(
        host=args.host,
        port=args.port,
        speed=args.speed,
        seed_demo=not args.no_demo_data,
        api_keys=keys,
        webhook_url=args.webhook_url,
        webhook_secret=None if args.webhook_url is None or not secret else SecretStr(secret),
    )
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from telli_mcp.doctor import run_doctor_command

    return run_doctor_command(lambda: _settings(args), deep=args.deep, json_target=args.json)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "simulator":
        return _simulator(args)
    if args.command == "doctor":
        return _doctor(args)
    if args.command == "webhooks":
        from telli_mcp.webhooks_cli import run_webhooks_command

        settings = _startup_settings(args)
        return _fail(settings) if isinstance(settings, str) else run_webhooks_command(args, settings)
    if args.command == "campaign":
        from telli_mcp.campaign_cli import run_campaign_command

        # Checked here so a bad setting is one line at startup (the campaign command loads them again).
        problem = _startup_settings(args)
        return _fail(problem) if isinstance(problem, str) else run_campaign_command(args)
    if args.command == "dnc":
        from telli_mcp.dnc_cli import run_dnc_command

        problem = _startup_settings(args)
        return _fail(problem) if isinstance(problem, str) else run_dnc_command(args)
    return _serve(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
