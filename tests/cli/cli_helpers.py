"""Helpers for driving the installed `telli-mcp` command in subprocesses on loopback (see process_helpers)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Mapping

from process_helpers import COMMAND, free_port, wait_for_port

__all__ = ["COMMAND", "free_port", "run_without_terminal", "served_simulator", "wait_until_listening"]


def served_simulator(*args: str) -> Iterator[str]:
    """`telli-mcp simulator` on a free loopback port for as long as the generator runs; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [COMMAND, "simulator", "--port", str(port), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_listening(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def run_without_terminal(*args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """`telli-mcp <args>` as a script or cron runs it: no terminal (stdin is empty), output captured as UTF-8."""
    return subprocess.run(
        [COMMAND, *args],
        env=dict(env),
        capture_output=True,
        text=True,
        encoding="utf-8",
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )


def wait_until_listening(port: int) -> None:
    wait_for_port(port)
