"""Session flood: N anonymous legacy-era `initialize` requests, then is a new client still served?

    .venv/bin/python benchmarks/session_flood.py               # 10,000 initialize requests, 50 at a time
    .venv/bin/python benchmarks/session_flood.py --flood 2000  # a quicker look

Two servers are compared side by side, each a subprocess on 127.0.0.1 serving the sandbox over HTTP behind the
same caller-key check: telli-mcp's app with its default session bounds (TELLI_MCP_MAX_SESSIONS=1000,
TELLI_MCP_SESSION_IDLE_SECONDS=600; a full table closes the flooder's idle sessions), and the SDK's own
`streamable_http_app()` with the SDK's defaults (10,000 sessions, 30 minutes idle; a full table answers 503).
For each it prints how the flood was answered, how many flood sessions are still held (each id pinged
afterwards), the server's RSS growth, and whether a new legacy-era and a new 2026-07-28 client are served.
Exits 1 if telli-mcp's side holds more sessions than its cap or refuses a new client. Loopback only; every
process is stopped; bounded in time.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from typing import Literal

import anyio
import httpx2
from harness import HOST, INITIALIZE, banner, clean_env, free_port, rss_mib, running, wait_for_port
from mcp import Client
from mcp.server.streamable_http_manager import DEFAULT_MAX_SESSIONS

from telli_mcp.config import Settings

Side = Literal["telli-mcp", "sdk"]
SIDES: tuple[Side, ...] = ("telli-mcp", "sdk")
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
CLIENT_TIMEOUT = 30.0
RUN_TIMEOUT = 600.0
SETTLE_SECONDS = 2.0
WIDTH = 46


@dataclass
class Outcome:
    side: Side
    cap: int
    statuses: dict[int, int]
    flood_seconds: float
    held: int
    rss_before: float
    rss_after: float
    legacy_client: str
    modern_client: str


# --- the server side (this script, started again with --serve) ------------------------------------------------


def serve(side: Side, port: int) -> None:
    """The sandbox over HTTP, behind the caller-key check, with telli-mcp's sessions or the SDK's."""
    import uvicorn

    from telli_mcp.backend import open_backend
    from telli_mcp.server import build_server, http_app
    from telli_mcp.server.http_auth import RequireCallerKey
    from telli_mcp.server.http_deployment import transport_security

    backend = open_backend(Settings(sandbox=True))
    settings = backend.settings  # carries the demo key, so anonymous loopback requests act with it
    server = build_server(backend, remote=True)
    if side == "telli-mcp":
        app = http_app(server, settings, HOST)
    else:
        sdk_app = server.streamable_http_app(transport_security=transport_security(settings, HOST))
        app = RequireCallerKey(sdk_app, allow_anonymous=True)
    uvicorn.run(app, host=HOST, port=port, log_level="error")


# --- the flooding side ---------------------------------------------------------------------------------------------


async def flood(url: str, count: int, at_once: int) -> tuple[dict[int, int], list[str]]:
    """`count` raw initialize requests, `at_once` in flight; the HTTP statuses and the session ids handed out."""
    statuses: dict[int, int] = {}
    ids: list[str] = []
    limit = anyio.Semaphore(at_once)

    async def one(http: httpx2.AsyncClient) -> None:
        async with limit:
            try:
                response = await http.post(url, json=INITIALIZE, headers=HEADERS)
            except httpx2.HTTPError:
                statuses[0] = statuses.get(0, 0) + 1  # 0: no HTTP answer at all
                return
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if "mcp-session-id" in response.headers:
            ids.append(response.headers["mcp-session-id"])

    limits = httpx2.Limits(max_connections=at_once, max_keepalive_connections=at_once)
    async with httpx2.AsyncClient(timeout=CLIENT_TIMEOUT, limits=limits) as http, anyio.create_task_group() as tg:
        for _ in range(count):
            tg.start_soon(one, http)
    return statuses, ids


async def still_held(url: str, ids: list[str], at_once: int) -> int:
    """How many of `ids` still answer a ping (a closed or expired session answers 404)."""
    alive = 0
    limit = anyio.Semaphore(at_once)

    async def one(http: httpx2.AsyncClient, session_id: str) -> None:
        nonlocal alive
        headers = {**HEADERS, "Mcp-Session-Id": session_id, "MCP-Protocol-Version": "2025-11-25"}
        async with limit:
            response = await http.post(url, json=PING, headers=headers)
        alive += response.status_code == 200

    limits = httpx2.Limits(max_connections=at_once, max_keepalive_connections=at_once)
    async with httpx2.AsyncClient(timeout=CLIENT_TIMEOUT, limits=limits) as http, anyio.create_task_group() as tg:
        for session_id in ids:
            tg.start_soon(one, http, session_id)
    return alive


async def new_client(url: str, mode: str) -> str:
    """'served' if a brand-new SDK client can connect and call get_status, else why not."""
    try:
        with anyio.fail_after(CLIENT_TIMEOUT):
            async with Client(url, mode=mode) as client:
                result = await client.call_tool("get_status", {})
        return "refused (tool error)" if result.is_error else "served"
    except Exception as err:  # what the user of a refused client sees is the point of the measurement
        return f"refused ({_cause(err)[:40]})"


def _cause(err: BaseException) -> str:
    while isinstance(err, BaseExceptionGroup) and err.exceptions:
        err = err.exceptions[0]
    return f"{type(err).__name__}: {err}"


async def measure(side: Side, args: argparse.Namespace) -> Outcome:
    port = free_port()
    url = f"http://{HOST}:{port}/mcp"
    command = [sys.executable, __file__, "--serve", side, "--port", str(port)]
    with running(command, clean_env()) as process:
        await wait_for_port(port, process)
        # Warm up both eras once, so imports and caches are not counted as session memory.
        warm = [await new_client(url, "legacy"), await new_client(url, "auto")]
        if warm != ["served", "served"]:
            raise RuntimeError(f"{side}: the server does not serve clients before the flood: {warm}")
        await anyio.sleep(SETTLE_SECONDS)
        rss_before = rss_mib(process.pid)
        started = time.perf_counter()
        statuses, ids = await flood(url, args.flood, args.at_once)
        flood_seconds = time.perf_counter() - started
        await anyio.sleep(SETTLE_SECONDS)  # let closed sessions finish tearing down before RSS is read
        rss_after = rss_mib(process.pid)
        held = await still_held(url, ids, args.at_once)
        legacy, modern = await new_client(url, "legacy"), await new_client(url, "auto")
    cap = Settings.model_fields["max_sessions"].default if side == "telli-mcp" else DEFAULT_MAX_SESSIONS
    return Outcome(side, cap, statuses, flood_seconds, held, rss_before, rss_after, legacy, modern)


def report(outcomes: list[Outcome], args: argparse.Namespace) -> int:
    print(f"{'':34}" + "".join(f"{o.side + f' (cap {o.cap:,})':>{WIDTH}}" for o in outcomes))

    def row(label: str, values: list[str]) -> None:
        print(f"{label:34}" + "".join(f"{value:>{WIDTH}}" for value in values))

    row(
        "flood answered (status: count)",
        [", ".join(f"{status}: {n:,}" for status, n in sorted(o.statuses.items())) for o in outcomes],
    )
    row("flood time", [f"{o.flood_seconds:.1f} s ({args.flood / o.flood_seconds:,.0f}/s)" for o in outcomes])
    row("flood sessions still held", [f"{o.held:,}" for o in outcomes])
    row("server RSS before -> after (MiB)", [f"{o.rss_before:.0f} -> {o.rss_after:.0f}" for o in outcomes])
    row("RSS growth (MiB)", [f"+{o.rss_after - o.rss_before:.1f}" for o in outcomes])
    row("new legacy-era client afterwards", [o.legacy_client for o in outcomes])
    row("new 2026-07-28 client afterwards", [o.modern_client for o in outcomes])
    ours = outcomes[0]
    ok = ours.held <= ours.cap and ours.legacy_client == ours.modern_client == "served"
    print("PASS" if ok else "FAIL: telli-mcp must hold at most its cap and serve new clients after a flood")
    return 0 if ok else 1


async def main_async(args: argparse.Namespace) -> int:
    banner(f"session flood: {args.flood:,} anonymous legacy-era initialize requests, {args.at_once} at a time")
    outcomes = []
    with anyio.fail_after(RUN_TIMEOUT):
        for side in SIDES:
            outcomes.append(await measure(side, args))
    return report(outcomes, args)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--flood", type=int, default=10_000, help="initialize requests sent to each server")
    parser.add_argument("--at-once", type=int, default=50, help="requests in flight at a time")
    parser.add_argument("--serve", choices=SIDES, help=argparse.SUPPRESS)  # internal: run one server side
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.serve is not None:
        serve(args.serve, args.port)
        return 0
    return anyio.run(main_async, args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
