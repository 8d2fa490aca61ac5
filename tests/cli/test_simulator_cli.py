"""`telli-mcp simulator` as a real HTTP server: each --api-key is its own account."""

from __future__ import annotations

import subprocess

import httpx2
from cli_helpers import COMMAND, free_port, wait_until_listening


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
