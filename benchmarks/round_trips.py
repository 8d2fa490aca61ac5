"""Round trips: `get_contact` against a telli that takes `--latency` seconds to answer each request.

    .venv/bin/python benchmarks/round_trips.py [--latency 0.02] [--calls 60]

`get_contact` needs two telli reads (the v2 contact and its v1 dialer state); made one after the other they cost
two round trips, made at once one. This measures, side by side and interleaved, against the HTTP simulator (a
subprocess) with the latency injected into every API answer:
- `get_contact` through the SDK `Client` over stdio (telli-mcp is a subprocess, in the default protocol era);
- one round trip: a single direct `httpx2` request for the contact (the floor for any answer that needs telli);
- the same two requests made directly one after the other (what a sequential tool would cost);
- the floor: `floor_get_contact.py`, a one-tool server on the same SDK making the same two reads at once with
  plain httpx2 over the SDK's stdio (what any server on this SDK and httpx2 pays for such an answer).
It prints the medians, each as a multiple of one round trip, and `get_contact` against the floor.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import anyio
import httpx2
from call_overhead import Probe, first_contact_id, mcp_probe
from harness import DEMO_KEY, TELLI_MCP, banner, clean_env, inject_latency, interleaved, median, ms, simulator
from mcp import Client, StdioServerParameters

WARMUP = 5
FLOOR = str(Path(__file__).with_name("floor_get_contact.py"))
RUN_TIMEOUT = 280.0


def requests_probe(http: httpx2.AsyncClient, paths: list[str]) -> Probe:
    async def probe() -> None:
        for path in paths:
            response = await http.get(path)
            response.raise_for_status()
            response.json()

    return probe


async def main_async(args: argparse.Namespace) -> int:
    banner(f"round trips: get_contact at {args.latency * 1000:.0f} ms of telli latency, {args.calls} calls per side")
    with anyio.fail_after(RUN_TIMEOUT):
        async with (
            simulator() as sim,
            httpx2.AsyncClient(base_url=sim.url, headers={"Authorization": f"Bearer {DEMO_KEY}"}, timeout=10) as http,
        ):
            contact_id = await first_contact_id(http)
            await inject_latency(sim.url, args.latency)
            env = clean_env(TELLI_API_BASE_URL=sim.url, TELLI_API_KEY=DEMO_KEY)
            async with (
                Client(StdioServerParameters(command=TELLI_MCP, env=env)) as client,
                Client(StdioServerParameters(command=sys.executable, args=[FLOOR], env=env)) as floor,
            ):
                samples = await interleaved(
                    {
                        "get_contact via MCP": mcp_probe(client, contact_id),
                        "floor: same reads, one-tool SDK": mcp_probe(floor, contact_id),
                        "one round trip": requests_probe(http, [f"/v2/contacts/{contact_id}"]),
                        "two reads one after the other": requests_probe(
                            http, [f"/v2/contacts/{contact_id}", f"/v1/get-contact/{contact_id}"]
                        ),
                    },
                    args.calls,
                    warmup=WARMUP,
                )
    one = median(samples["one round trip"])
    for name, times in samples.items():
        print(f"{name:32s} median {ms(median(times)):>10s}  = {median(times) / one:.2f}x one round trip")
    ours, floor = median(samples["get_contact via MCP"]), median(samples["floor: same reads, one-tool SDK"])
    print(f"get_contact vs the floor: {ours / floor:.2f}x ({(ours - floor) * 1000:+.1f} ms)")
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="get_contact's round trips against a slow telli")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added to every telli answer")
    parser.add_argument("--calls", type=int, default=60)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(anyio.run(main_async, parse_args(sys.argv[1:])))
