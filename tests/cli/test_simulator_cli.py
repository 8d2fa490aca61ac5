"""`telli-mcp simulator` as a real HTTP server: each --api-key is its own account."""

from __future__ import annotations

import os
import subprocess

import httpx2
from cli_helpers import COMMAND, free_port, run_without_terminal, served_simulator, wait_until_listening


def test_each_api_key_is_accepted_and_others_are_refused() -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            COMMAND,
            "simulator",
            "--port",
            str(port),
            "--api-key",
            "key-one-0000",
            "--api-key",
            "key-two-0000",
            "--no-demo-data",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_listening(port)
        url = f"http://127.0.0.1:{port}/v1/verify-api-key"
        statuses = [
            httpx2.get(url, headers={"Authorization": f"Bearer {key}"}).status_code
            for key in ("key-one-0000", "key-two-0000", "telli-sandbox-demo-key")
        ]
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert statuses == [200, 200, 401]


def test_at_speed_zero_only_an_advance_moves_the_clock() -> None:
    for url in served_simulator("--speed", "0", "--no-demo-data"):
        before = httpx2.get(f"{url}/_sim/health").json()["now"]
        moved = httpx2.post(f"{url}/_sim/advance", json={"seconds": 60}).json()["now"]
        after = httpx2.get(f"{url}/_sim/health").json()["now"]
    assert before < moved == after  # served, and the clock moved by the advance alone


def test_a_negative_speed_is_refused_in_one_line() -> None:
    result = run_without_terminal("simulator", "--speed", "-1", env=os.environ)
    assert result.returncode == 2
    assert result.stderr.strip() == "telli-mcp: --speed must not be negative"
