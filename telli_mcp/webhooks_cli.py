"""`telli-mcp webhooks`: receive telli's webhooks beside a stdio server, and print a key's account fingerprint.

- `telli-mcp webhooks serve [--host H] [--port N]` runs the receiver alone (behind your own tunnel to the
  internet), storing events where a stdio server with the same settings reads them.
- `telli-mcp webhooks fingerprint` prints the account fingerprint of the key in TELLI_API_KEY, for
  TELLI_MCP_WEBHOOK_ACCOUNTS.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from telli_mcp.config import Settings

__all__ = ["add_webhooks_parser", "run_webhooks_command"]


def add_webhooks_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    webhooks = commands.add_parser("webhooks", help="receive telli's webhooks (real-time call results)")
    actions = webhooks.add_subparsers(dest="webhooks_command", required=True)
    serve = actions.add_parser("serve", help="run the webhook receiver alone, for a stdio server on this machine")
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1; tunnel to it)")
    serve.add_argument("--port", type=int, default=8790, help="port (default 8790); the path is /webhooks/telli")
    actions.add_parser("fingerprint", help="print the account fingerprint of TELLI_API_KEY")


def run_webhooks_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run `telli-mcp webhooks <command>`; returns the exit status."""
    if args.webhooks_command == "fingerprint":
        return _fingerprint(settings)
    return _serve(settings, host=args.host, port=args.port)


def _fingerprint(settings: Settings) -> int:
    from telli_mcp.client import key_fingerprint

    if settings.api_key is None:
        print("telli-mcp: TELLI_API_KEY is not set", file=sys.stderr)
        return 2
    print(key_fingerprint(settings.api_key.get_secret_value()))
    return 0


def _serve(settings: Settings, *, host: str, port: int) -> int:
    from telli_mcp.backend import open_backend
    from telli_mcp.webhooks.serve import run_receiver

    backend = open_backend(settings, sandbox_speed=0)
    if backend.sandbox is not None or not backend.webhook_endpoints:
        print(
            "telli-mcp: set TELLI_MCP_WEBHOOK_SECRET (with TELLI_API_KEY) or TELLI_MCP_WEBHOOK_ACCOUNTS; "
            "the sandbox needs no receiver",
            file=sys.stderr,
        )
        return 2
    run_receiver(backend.webhook_endpoints, backend.events.location, host=host, port=port)
    return 0
