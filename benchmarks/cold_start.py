"""Cold start: spawn a stdio MCP server and time it until its first `tools/list` answer.

    .venv/bin/python benchmarks/cold_start.py [--runs 10] [--bytecode compiled|none]

Compares `telli-mcp --sandbox` (builds the simulator and demo data too) and `telli-mcp` without a key
(the real-account path) with `minimal_server.py` (one tool, same SDK), runs interleaved so that other work
on the machine hits every variant alike. Speaks raw JSON-RPC lines (initialize, initialized, tools/list)
so the client's own import time is not in the measurement. Prints medians and the ratios to the baseline, of
the wall time and of the CPU time the server process used by its answer (read from `/proc`; on a shared
machine other work stretches the wall time much more than the CPU time).

Both sides load their code the same way (`--bytecode`), or the ratio would measure compilation, not startup:
- `compiled` (default): `compileall` first writes bytecode for the project venv's site-packages, `telli_mcp` and
  `minimal_server.py`, and the measured processes run without `PYTHONDONTWRITEBYTECODE`, so every import reads
  a `.pyc` (as after a normal `pip install`);
- `none`: the measured processes look for bytecode in an empty `PYTHONPYCACHEPREFIX` and may not write any, so
  every import, on both sides, compiles from source.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness import (
    INITIALIZE,
    INITIALIZED,
    TELLI_MCP,
    banner,
    clean_env,
    cpu_seconds,
    load_average,
    median,
    stdio_peer,
)

HERE = Path(__file__).resolve().parent
PACKAGE = HERE.parent / "telli_mcp"  # the editable install's source, which `telli-mcp` imports
ANSWER_TIMEOUT = 30.0
VARIANTS: dict[str, list[str]] = {
    "minimal MCPServer (1 tool)": [sys.executable, str(HERE / "minimal_server.py")],
    "telli-mcp --sandbox": [TELLI_MCP, "--sandbox"],
    "telli-mcp (no key)": [TELLI_MCP],
}
BASELINE = "minimal MCPServer (1 tool)"
BYTECODE_SETTINGS = ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
COMPILE_TIMEOUT = 300.0


def compile_bytecode() -> None:
    """Bytecode for everything either side imports; `compileall` skips what is already up to date."""
    targets = [sysconfig.get_paths()["purelib"], str(PACKAGE), str(HERE / "minimal_server.py")]
    env = {k: v for k, v in clean_env().items() if k not in BYTECODE_SETTINGS}
    command = [sys.executable, "-m", "compileall", "-q", "-j0", *targets]
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, timeout=COMPILE_TIMEOUT)


def measured_env(bytecode: str, empty_cache: str) -> dict[str, str]:
    """The environment of every measured process: the same for both sides, whatever the caller's shell sets."""
    env = {k: v for k, v in clean_env().items() if k not in BYTECODE_SETTINGS}
    if bytecode == "none":
        # An empty cache prefix hides the existing .pyc files; not writing keeps it empty for the next run.
        env.update(PYTHONPYCACHEPREFIX=empty_cache, PYTHONDONTWRITEBYTECODE="1")
    return env


@dataclass(frozen=True)
class Sample:
    wall: float
    """Seconds from spawn to the tools/list answer."""
    cpu: float
    """CPU seconds the server process used by then (user + system): what other work on the machine barely moves."""
    tools: int


def time_to_tools_list(command: list[str], env: dict[str, str]) -> Sample:
    started = time.perf_counter()
    with stdio_peer(command, env) as peer:
        # All three lines at once: a server reads them as soon as it listens, as a real client's would arrive.
        peer.send(INITIALIZE, INITIALIZED, {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
        answer = peer.answer(1, timeout=ANSWER_TIMEOUT)
        wall = time.perf_counter() - started
        return Sample(wall, cpu_seconds(peer.process.pid), len(answer["result"]["tools"]))


def measure(runs: int, env: dict[str, str]) -> dict[str, list[Sample]]:
    samples: dict[str, list[Sample]] = {name: [] for name in VARIANTS}
    time_to_tools_list(VARIANTS[BASELINE], env)  # one unmeasured run warms the OS file cache for all of them
    for _ in range(runs):
        for name, command in VARIANTS.items():
            samples[name].append(time_to_tools_list(command, env))
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description="cold start of stdio MCP servers")
    parser.add_argument("--runs", type=int, default=10, help="runs per variant, interleaved")
    parser.add_argument(
        "--bytecode",
        choices=["compiled", "none"],
        default="compiled",
        help="compiled: every side reads .pyc compiled beforehand; none: every side compiles from source",
    )
    args = parser.parse_args()
    banner(f"cold start to first tools/list over stdio, {args.runs} runs each, interleaved")
    with tempfile.TemporaryDirectory(prefix="cold-start-pycache-") as empty_cache:
        if args.bytecode == "compiled":
            compile_bytecode()
            print("bytecode: compiled beforehand (compileall) for both sides; PYTHONDONTWRITEBYTECODE unset")
        else:
            print("bytecode: none for either side (empty PYTHONPYCACHEPREFIX, PYTHONDONTWRITEBYTECODE=1)")
        samples = measure(args.runs, measured_env(args.bytecode, empty_cache))
    base_wall = median([s.wall for s in samples[BASELINE]])
    base_cpu = median([s.cpu for s in samples[BASELINE]])
    # The main script itself is always compiled from source; both entry scripts are a few lines long.
    for name, runs in samples.items():
        wall, cpu = [s.wall for s in runs], [s.cpu for s in runs]
        print(
            f"{name:28s} wall median {median(wall) * 1000:7.1f} ms (min {min(wall) * 1000:.1f}, "
            f"max {max(wall) * 1000:.1f}) ratio {median(wall) / base_wall:.2f}x | CPU median "
            f"{median(cpu) * 1000:6.0f} ms ratio {median(cpu) / base_cpu:.2f}x | {runs[0].tools} tools"
        )
    print(f"load average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
