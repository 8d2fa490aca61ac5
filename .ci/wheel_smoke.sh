#!/usr/bin/env bash
# Packaging smoke test: what a user gets from `pip install telli-mcp`, not what the source tree happens to hold.
#   1. build the sdist and the wheel (python -m build builds the wheel FROM the sdist, so a file missing from
#      the sdist fails here) and check both carry the files a user needs, and the wheel nothing else;
#   2. install the wheel into a fresh venv, run everything from a directory outside the repository, check that
#      no test-only package came along and that `telli-mcp --sandbox` answers tools/list over stdio;
#   3. install the sdist into another fresh venv (in parallel with 2) and check `telli-mcp --version`.
# Only PyPI is needed. Every failure prints which step failed and exits non-zero.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3}"
started=$SECONDS

fail() { echo "wheel_smoke: FAILED: $*" >&2; exit 1; }
step() { echo "wheel_smoke: [$((SECONDS - started))s] $*"; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Nothing from the checkout or the user's site-packages may leak into the installed package's imports.
cd "$work"
export PYTHONNOUSERSITE=1 PIP_DISABLE_PIP_VERSION_CHECK=1
unset PYTHONPATH
for name in $(env | sed -n 's/^\(TELLI_[A-Z0-9_]*\)=.*/\1/p'); do unset "$name"; done

expected="$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$root/telli_mcp/_version.py")"
[[ -n "$expected" ]] || fail "cannot read __version__ from telli_mcp/_version.py"

step "building sdist and wheel of telli-mcp $expected"
"$python" -m venv "$work/build-venv"
"$work/build-venv/bin/python" -m pip install --quiet build || fail "pip install build"
"$work/build-venv/bin/python" -m build --outdir "$work/dist" "$root" >"$work/build.log" 2>&1 \
    || { cat "$work/build.log" >&2; fail "python -m build"; }
wheel="$(ls "$work"/dist/telli_mcp-"$expected"-*.whl 2>/dev/null)" || fail "no wheel for version $expected"
sdist="$(ls "$work"/dist/telli_mcp-"$expected".tar.gz 2>/dev/null)" || fail "no sdist for version $expected"
echo "  $(basename "$wheel"), $(basename "$sdist")"

"$work/build-venv/bin/python" - "$wheel" "$sdist" <<'PY' || fail "the distributions lack files a user needs"
import sys
import tarfile
import zipfile

wheel = zipfile.ZipFile(sys.argv[1]).namelist()
sdist = [name.split("/", 1)[1] for name in tarfile.open(sys.argv[2]).getnames() if "/" in name]
shipped = ("telli_mcp/py.typed", "telli_mcp/cli.py", "telli_mcp/server/tool_schemas.json",
           "telli_mcp/server/declarations.json")
missing = [f"wheel: {name}" for name in shipped if name not in wheel]
missing += [f"sdist: {name}" for name in ("LICENSE", "README.md", "pyproject.toml", "telli_mcp/py.typed")
            if name not in sdist]
if not any(name.endswith(".dist-info/licenses/LICENSE") for name in wheel):
    missing.append("wheel: the LICENSE file")
stray = [name for name in wheel if not name.startswith(("telli_mcp/", "telli_mcp-"))]
assert not missing and not stray, f"missing {missing}; not part of the package: {stray[:5]}"
PY

# The sdist install builds its own wheel and resolves dependencies: run it while the wheel is being checked.
step "installing the sdist into a fresh venv (in the background) and the wheel into another"
"$python" -m venv "$work/sdist-venv"
"$work/sdist-venv/bin/python" -m pip install --quiet "$sdist" >"$work/sdist-install.log" 2>&1 &
sdist_install=$!
"$python" -m venv "$work/wheel-venv"
"$work/wheel-venv/bin/python" -m pip install --quiet "$wheel" || fail "pip install the wheel"

installed="$("$work/wheel-venv/bin/python" -m pip list --format=freeze)"
# Nor the postgres extra's packages: a server without TELLI_MCP_DATABASE_URL needs none of them.
for dev_only in pytest pytest-timeout hypothesis ruff mypy psycopg psycopg-binary psycopg-pool; do
    if grep -qi "^$dev_only==" <<<"$installed"; then
        fail "the wheel pulls in $dev_only (test-only, or the postgres extra's)"
    fi
done
shown="$("$work/wheel-venv/bin/python" -m pip show telli-mcp)" || fail "pip show telli-mcp"
grep -q "^Version: $expected$" <<<"$shown" || fail "pip show telli-mcp does not report version $expected"
location="$("$work/wheel-venv/bin/python" -c 'import telli_mcp; print(telli_mcp.__file__)')"
[[ "$location" == "$work/wheel-venv/"* ]] || fail "telli_mcp imported from $location, not from the installed wheel"
[[ "$("$work/wheel-venv/bin/telli-mcp" --version)" == "telli-mcp $expected" ]] || fail "telli-mcp --version"

step "stdio smoke test of the installed telli-mcp --sandbox"
"$work/wheel-venv/bin/python" - "$work/wheel-venv/bin/telli-mcp" <<'PY' || fail "telli-mcp --sandbox did not answer tools/list"
import os
import sys

import anyio
from mcp import Client, StdioServerParameters


async def main() -> None:
    params = StdioServerParameters(command=sys.argv[1], args=["--sandbox"], env=dict(os.environ))
    with anyio.fail_after(60):
        async with Client(params) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            status = await client.call_tool("get_status", {})
    assert {"get_status", "schedule_calls", "get_call_transcript", "advance_sandbox_clock"} <= names, sorted(names)
    assert not status.is_error, status
    print(f"  tools/list answered with {len(names)} tools; get_status works")


anyio.run(main)
PY

step "waiting for the sdist install"
wait "$sdist_install" || { cat "$work/sdist-install.log" >&2; fail "pip install the sdist"; }
version="$("$work/sdist-venv/bin/telli-mcp" --version)" || fail "telli-mcp --version from the sdist install"
[[ "$version" == "telli-mcp $expected" ]] || fail "sdist install reports '$version', expected 'telli-mcp $expected'"

step "OK: wheel and sdist of telli-mcp $expected install and run"
