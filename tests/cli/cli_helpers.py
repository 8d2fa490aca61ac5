"""Helpers for driving the installed `telli-mcp` command in subprocesses on loopback."""

from __future__ import annotations

import shutil
import socket
import sys
import time
from pathlib import Path

COMMAND = shutil.which("telli-mcp", path=str(Path(sys.executable).parent)) or "telli-mcp"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_listening(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)  # readiness of a subprocess, bounded; no assertion depends on timing
    raise TimeoutError(f"simulator did not listen on {port}")
