"""Helpers for driving the installed `telli-mcp` command in subprocesses on loopback (see process_helpers)."""

from __future__ import annotations

from process_helpers import COMMAND, free_port, wait_for_port

__all__ = ["COMMAND", "free_port", "wait_until_listening"]


def wait_until_listening(port: int) -> None:
    wait_for_port(port)
