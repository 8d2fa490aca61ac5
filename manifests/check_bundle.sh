#!/usr/bin/env bash
# Check the Claude Desktop bundle (MCPB) end to end, offline except for the npm registry and PyPI:
#   1. `mcpb validate` the manifest and `mcpb pack` the bundle into a temporary directory;
#   2. unpack the .mcpb and start it the way Claude Desktop's uv runtime does (`uv run --directory <bundle>
#      server/main.py`), with telli-mcp installed from a wheel built from this checkout instead of PyPI,
#      and list the sandbox's tools over stdio.
# Any failure exits non-zero with a line saying which step failed. Tools go to .tools/ (gitignored).
set -euo pipefail

MCPB_VERSION="2.1.2"
UV_VERSION="0.13.9"

root="$(cd "$(dirname "$0")/.." && pwd)"
bundle="$root/manifests/mcpb"
tools="$root/.tools"
python="${PYTHON:-python3}"

fail() { echo "check_bundle: FAILED: $*" >&2; exit 1; }
step() { echo "check_bundle: $*"; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

mcpb="$tools/mcpb/node_modules/.bin/mcpb"
if [[ ! -x "$mcpb" ]] || [[ "$("$mcpb" --version 2>/dev/null)" != "$MCPB_VERSION" ]]; then
    step "installing @anthropic-ai/mcpb@$MCPB_VERSION into .tools/mcpb"
    npm install --prefix "$tools/mcpb" --no-audit --no-fund --loglevel=error "@anthropic-ai/mcpb@$MCPB_VERSION" \
        </dev/null || fail "npm install @anthropic-ai/mcpb@$MCPB_VERSION"
fi

step "mcpb validate"
"$mcpb" validate "$bundle/manifest.json" </dev/null || fail "mcpb validate manifests/mcpb/manifest.json"

step "mcpb pack"
# stdin closed: pack prompts interactively only when manifest.json is missing, which must fail here.
"$mcpb" pack "$bundle" "$work/telli-mcp.mcpb" </dev/null || fail "mcpb pack manifests/mcpb"
[[ -s "$work/telli-mcp.mcpb" ]] || fail "mcpb pack wrote no .mcpb"

"$mcpb" unpack "$work/telli-mcp.mcpb" "$work/unpacked" </dev/null >/dev/null || fail "mcpb unpack"
for file in manifest.json pyproject.toml server/main.py; do
    [[ -f "$work/unpacked/$file" ]] || fail "the packed bundle lacks $file"
done
if find "$work/unpacked" -name '.venv' -o -name '__pycache__' -o -name '*.pyc' | grep -q .; then
    fail "the packed bundle contains build leftovers (.venv, __pycache__): check manifests/mcpb/.mcpbignore"
fi

step "building a telli-mcp wheel from this checkout"
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION" \
    || fail "pip install uv==$UV_VERSION"
"$work/venv/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir "$work/wheels" "$root" \
    || fail "building the telli-mcp wheel"

step "starting the unpacked bundle as Claude Desktop's uv runtime would (sandbox, stdio)"
# The bundle pins telli-mcp==<version>; the local wheel satisfies the pin, the other dependencies come from PyPI.
# No interpreter downloads: uv must use the Python that is already here.
export UV_FIND_LINKS="$work/wheels" UV_PYTHON_DOWNLOADS=never UV_CACHE_DIR="$work/uv-cache" UV_NO_PROGRESS=1
export UV_PYTHON="$("$python" -c 'import sys; print(sys.executable)')"
uv="$work/venv/bin/uv"
version="$("$uv" run --quiet --directory "$work/unpacked" server/main.py --version </dev/null)" \
    || fail "uv run server/main.py --version"
expected="telli-mcp $("$work/venv/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
    "$work/unpacked/manifest.json")"
[[ "$version" == "$expected" ]] || fail "the bundle runs '$version', its manifest says '$expected'"

# Drive the bundle's own command over stdio with the MCP client from the bundle's environment.
"$uv" run --quiet --directory "$work/unpacked" python - "$uv" "$work/unpacked" <<'EOF' \
    || fail "the bundle did not answer tools/list over stdio"
import os
import sys

import anyio
from mcp import Client, StdioServerParameters

uv, bundle = sys.argv[1], sys.argv[2]


async def main() -> None:
    params = StdioServerParameters(command=uv, args=["run", "--quiet", "--directory", bundle, "server/main.py",
                                                     "--sandbox"], env=dict(os.environ))
    with anyio.fail_after(60):
        async with Client(params) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
    assert {"get_status", "schedule_calls", "advance_sandbox_clock"} <= names, sorted(names)
    print(f"check_bundle: the bundle answered tools/list with {len(names)} tools")


anyio.run(main)
EOF

step "OK: $version bundle validates, packs ($(wc -c <"$work/telli-mcp.mcpb") bytes) and starts"
