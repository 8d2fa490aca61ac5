"""Command-line flags that several `telli-mcp` subcommands share."""

from __future__ import annotations

import argparse

__all__ = ["add_sandbox_flag"]


def add_sandbox_flag(parser: argparse.ArgumentParser, help_text: str) -> None:
    """`--sandbox` after a subcommand's name. SUPPRESS, so that `telli-mcp --sandbox <command>` keeps the top-level
    flag (a subparser's own default would reset it)."""
    parser.add_argument("--sandbox", action="store_true", default=argparse.SUPPRESS, help=help_text)
