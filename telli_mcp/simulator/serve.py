"""Run the simulator as a real HTTP server, with simulated time following the wall clock (× speed)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import anyio
from pydantic import SecretStr

from .app import TelliSimulator
from .keys import DEMO_API_KEY
from .webhooks import http_delivery

__all__ = ["drive_clock", "run_simulator"]

SERVED_LOG_LIMIT = 10_000
"""A served simulator keeps the newest requests only (it may run for days)."""


async def drive_clock(sim: TelliSimulator, *, speed: float, tick: float = 0.25) -> None:
    """Advance `sim` by real elapsed time × `speed`, every `tick` seconds, until cancelled. At speed 0 the clock
    stands still (so the dialer calls nobody) until `POST /_sim/advance` moves it: this returns at once."""
    if speed < 0:
        raise ValueError("speed must not be negative")
    if tick <= 0:
        raise ValueError("tick must be positive")
    if speed == 0:
        return
    last = time.monotonic()
    while True:
        await anyio.sleep(tick)
        now = time.monotonic()
        await sim.advance((now - last) * speed)
        last = now


def run_simulator(
    *,
    host: str = "127.0.0.1",
    port: int = 8787,
    speed: float = 60.0,
    seed_demo: bool = True,
    api_keys: Sequence[str] = (DEMO_API_KEY,),
    webhook_url: str | None = None,
    webhook_secret: SecretStr | None = None,
) -> None:
    """Serve the simulator with uvicorn until interrupted; calls complete while you watch.

    With `webhook_url` and `webhook_secret`, every account's events are signed with that secret and POSTed there
    (one receiver endpoint is one account: meant for the single demo account).
    """
    import uvicorn  # lazily: keeps `import telli_mcp.simulator` fast

    sim = TelliSimulator(
        api_keys=api_keys, seed_demo=seed_demo, request_log_limit=SERVED_LOG_LIMIT, threaded_checks=True
    )
    if (webhook_url is None) != (webhook_secret is None):
        raise ValueError("webhooks need both a URL and a secret")
    if webhook_url is not None and webhook_secret is not None:
        for api_key in api_keys:
            sim.send_webhooks(api_key, http_delivery(webhook_url), webhook_secret)
    server = uvicorn.Server(uvicorn.Config(sim.app, host=host, port=port, log_level="warning"))

    async def main() -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(lambda: drive_clock(sim, speed=speed))
            await server.serve()
            tasks.cancel_scope.cancel()

    anyio.run(main)


if __name__ == "__main__":
    run_simulator()
