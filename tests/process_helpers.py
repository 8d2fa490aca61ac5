"""Helpers for tests that run the installed `telli-mcp` command in subprocesses on loopback."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["COMMAND", "clean_env", "free_port", "imported_modules", "running_simulator", "wait_for_port", "within"]

COMMAND = shutil.which("telli-mcp", path=str(Path(sys.executable).parent)) or "telli-mcp"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any TELLI_* setting of the developer's or CI's, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELLI_")}
    return {**env, **extra}


def imported_modules(importtime_log: str) -> set[str]:
    """Every module a process imported, from what `python -X importtime` wrote to its stderr."""
    lines = [line for line in importtime_log.splitlines() if line.startswith("import time:")]
    return {line.rsplit("|", 1)[-1].strip() for line in lines}


def within(module: str, *packages: str) -> bool:
    """`module` is one of `packages` or inside one of them."""
    return any(module == package or module.startswith(package + ".") for package in packages)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None = None, limit: float = 20.0) -> None:
    """Return once something listens on `port` (and `process`, if given, is still alive)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert process is None or process.poll() is None, "the process exited during start-up"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)  # readiness poll of a subprocess, bounded by `limit`; no assertion depends on it
    raise TimeoutError(f"nothing listening on port {port} after {limit} s")


@contextmanager
def running_simulator(*args: str) -> Iterator[str]:
    """`telli-mcp simulator` on a free loopback port (extra `args`, e.g. `--api-key K`); yields its base URL."""
    port = free_port()
    command = [COMMAND, "simulator", "--host", "127.0.0.1", "--port", str(port), *args]
    process = subprocess.Popen(command, env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def serving(app: Any, *, lifespan: str = "auto") -> Iterator[str]:
    """Serve an ASGI app on a loopback port in a thread; yield its base URL (`http://127.0.0.1:<port>`).

    The socket listens before the server starts, so connections queue until uvicorn accepts them: no readiness
    polling.
    """
    import threading

    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan=lifespan))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
