"""Cold start: spawn a stdio MCP server and time it until its first `tools/list` answer.

    .venv/bin/python benchmarks/cold_start.py [--runs 10]

Compares `telli-mcp --sandbox` (builds the simulator and demo data too) and `telli-mcp` without a key
(the real-account path) with `minimal_server.py` (one tool, same SDK), runs interleaved so that other work
on the machine hits every variant alike. Speaks raw JSON-RPC lines (initialize, initialized, tools/list)
so the client's own import time is not in the measurement. Prints medians and the ratios to the baseline.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from harness import INITIALIZE, INITIALIZED, TELLI_MCP, banner, clean_env, median, stdio_peer

HERE = Path(__file__).resolve().parent
ANSWER_TIMEOUT = 30.0
VARIANTS: dict[str, list[str]] = {
    "minimal MCPServer (1 tool)": [sys.executable, str(HERE / "minimal_server.py")],
    "telli-mcp --sandbox": [TELLI_MCP, "--sandbox"],
    "telli-mcp (no key)": [TELLI_MCP],
}
BASELINE = "minimal MCPServer (1 tool)"


def time_to_tools_list(command: list[str]) -> tuple[float, int]:
    """Seconds from spawn to the tools/list answer, and how many tools it listed."""
    started = time.perf_counter()
    with stdio_peer(command, clean_env()) as peer:
        # All three lines at once: a server reads them as soon as it listens, as a real client's would arrive.
        peer.send(INITIALIZE, INITIALIZED, {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
        answer = peer.answer(1, timeout=ANSWER_TIMEOUT)
        return time.perf_counter() - started, len(answer["result"]["tools"])


def main() -> int:
    parser = argparse.ArgumentParser(description="cold start of stdio MCP servers")
    parser.add_argument("--runs", type=int, default=10, help="runs per variant, interleaved")
    args = parser.parse_args()
    banner(f"cold start to first tools/list over stdio, {args.runs} runs each, interleaved")
    samples: dict[str, list[float]] = {name: [] for name in VARIANTS}
    tools: dict[str, int] = {}
    time_to_tools_list(VARIANTS[BASELINE])  # one unmeasured run warms the OS file cache for all of them
    for _ in range(args.runs):
        for name, command in VARIANTS.items():
            seconds, tools[name] = time_to_tools_list(command)
            samples[name].append(seconds)
    base = median(samples[BASELINE])
    for name, values in samples.items():
        print(
            f"{name:28s} median {median(values) * 1000:7.1f} ms  (min {min(values) * 1000:.1f}, "
            f"max {max(values) * 1000:.1f}; {tools[name]} tools)  ratio {median(values) / base:.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
