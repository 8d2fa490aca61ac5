"""Call overhead: what the MCP layer adds to a telli request.

    .venv/bin/python benchmarks/call_overhead.py [--calls 300]

`get_contact` through the SDK `Client` over stdio (telli-mcp subprocess pointed at the HTTP simulator,
another subprocess, no injected latency) against the same HTTP requests made directly with `httpx2` to
the same simulator. The tool makes two requests (GET /v2/contacts/{id} for the contact, GET
/v1/get-contact/{id} for its dialer state), so the direct side makes the same two, on one keep-alive
client as the server does. Samples alternate between the sides so other load on the machine hits both.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable

import anyio
import httpx2
from harness import DEMO_KEY, TELLI_MCP, banner, clean_env, interleaved, median, percentile, simulator
from mcp import Client, StdioServerParameters

WARMUP = 20
RUN_TIMEOUT = 110.0

Probe = Callable[[], Awaitable[None]]


async def first_contact_id(http: httpx2.AsyncClient) -> str:
    response = await http.get("/v2/contacts", params={"limit": 1})
    response.raise_for_status()
    return str(response.json()["data"][0]["id"])


def direct_probe(http: httpx2.AsyncClient, contact_id: str) -> Probe:
    async def probe() -> None:
        for path in (f"/v2/contacts/{contact_id}", f"/v1/get-contact/{contact_id}"):
            response = await http.get(path)
            response.raise_for_status()
            response.json()  # the server decodes the body too

    return probe


def mcp_probe(client: Client, contact_id: str) -> Probe:
    async def probe() -> None:
        result = await client.call_tool("get_contact", {"contact_id": contact_id})
        if result.is_error:
            raise RuntimeError(f"get_contact failed: {result.content}")

    return probe


async def compare(mcp: Probe, direct: Probe, calls: int) -> tuple[list[float], list[float]]:
    # Warm-up first: connections, imports and caches in place on both sides.
    samples = await interleaved({"mcp": mcp, "direct": direct}, calls, warmup=WARMUP)
    return samples["mcp"], samples["direct"]


def report(mode: str, mcp_times: list[float], direct_times: list[float]) -> None:
    added = [m - d for m, d in zip(mcp_times, direct_times, strict=True)]
    mcp_median, direct_median = median(mcp_times), median(direct_times)
    print(
        f"mode={mode:6s} MCP get_contact: median {mcp_median * 1000:.2f} ms, p95 "
        f"{percentile(mcp_times, 95) * 1000:.2f} ms | direct httpx2 (same 2 requests): median "
        f"{direct_median * 1000:.2f} ms, p95 {percentile(direct_times, 95) * 1000:.2f} ms"
    )
    print(
        f"mode={mode:6s} added by MCP: median {median(added) * 1000:.2f} ms, p95 "
        f"{percentile(added, 95) * 1000:.2f} ms; ratio {mcp_median / direct_median:.2f}x"
    )


async def main_async(args: argparse.Namespace) -> int:
    banner(f"call overhead: get_contact via MCP stdio vs direct httpx2, {args.calls} calls per side per mode")
    with anyio.fail_after(RUN_TIMEOUT):
        async with (
            simulator() as sim,
            httpx2.AsyncClient(base_url=sim.url, headers={"Authorization": f"Bearer {DEMO_KEY}"}, timeout=10) as http,
        ):
            contact_id = await first_contact_id(http)
            env = clean_env(TELLI_API_BASE_URL=sim.url, TELLI_API_KEY=DEMO_KEY)
            for mode in args.modes:
                async with Client(StdioServerParameters(command=TELLI_MCP, env=env), mode=mode) as client:
                    mcp_times, direct_times = await compare(
                        mcp_probe(client, contact_id), direct_probe(http, contact_id), args.calls
                    )
                report(mode, mcp_times, direct_times)
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="MCP call overhead over stdio")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--modes", nargs="+", default=["auto", "legacy"], choices=["auto", "legacy"])
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(anyio.run(main_async, parse_args(sys.argv[1:])))
