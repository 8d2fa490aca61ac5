"""The first hour of a new user: what breaks before they ever reach their own telli account.

* Windows ships no IANA time zone database; Python then needs the `tzdata` package. Without it the sandbox
  cannot start, every time zone is rejected and `call_now` fails. Simulated here by pointing the time zone
  path (`PYTHONTZPATH`, or `zoneinfo.reset_tzpath` in-process) at an empty directory.
* The package page links to the repository, its issues, changelog and documentation.
* `manifests/server.json` is what the MCP registry accepts: validated against the registry's own schema,
  vendored in `schemas/` (see `schemas/README.md` for its source).
* Tool schemas spell "may be null" as `anyOf` branches of one type each: the MCP Inspector flags `type` arrays
  as not portable (clients that map schemas onto a single-`type` dialect reject them).
* An HTTP deployment answers a health probe without a key and without asking telli.
"""

from __future__ import annotations

import json
import re
import tomllib
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import httpx2
import jsonschema
import pytest
from mcp import Client, StdioServerParameters
from mcp_helpers import Answers
from process_helpers import COMMAND, clean_env, serving

from telli_mcp.backend import Backend
from telli_mcp.client.timezones import callee_timezone
from telli_mcp.config import ServerKeyUse, Settings
from telli_mcp.serve import http_app
from telli_mcp.server import build_server
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator
from telli_mcp.zones import check_iana_zone, is_iana_zone

REPO = Path(__file__).resolve().parents[2]
SERVER_JSON = REPO / "manifests" / "server.json"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
NEW_YORK_NUMBER = "+12125550142"  # fictional (555-01xx), in New York's only area code zone


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# ---- Windows: no system time zone database --------------------------------------------------------------------


@pytest.fixture
def no_system_tz_database(tmp_path: Path) -> Iterator[None]:
    """This process's zoneinfo sees an empty system database (as on Windows) for the test's duration."""
    saved = zoneinfo.TZPATH
    zoneinfo.reset_tzpath([str(tmp_path)])
    zoneinfo.ZoneInfo.clear_cache()  # zones loaded earlier from the system database must not hide the gap
    try:
        yield
    finally:
        zoneinfo.reset_tzpath(saved)
        zoneinfo.ZoneInfo.clear_cache()


@pytest.mark.usefixtures("no_system_tz_database")
def test_time_zone_names_are_known_without_a_system_database() -> None:
    assert is_iana_zone("America/New_York") and is_iana_zone("Europe/Berlin")
    assert check_iana_zone("Asia/Tokyo") == "Asia/Tokyo"
    assert not is_iana_zone("Mars/Olympus_Mons")


@pytest.mark.usefixtures("no_system_tz_database")
def test_a_callee_is_placed_in_their_own_zone_without_a_system_database() -> None:
    callee = callee_timezone(NEW_YORK_NUMBER, None, "Europe/Berlin")
    noon_utc = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
    assert (callee.zone, callee.source) == ("America/New_York", "inferred")
    assert callee.local_time(noon_utc).hour == 7  # EST is UTC-5 in January


@pytest.mark.anyio
async def test_sandbox_starts_and_calls_with_an_empty_time_zone_path(tmp_path: Path) -> None:
    # PYTHONTZPATH replaces the system search path, so an empty directory is what Windows looks like.
    params = StdioServerParameters(command=COMMAND, args=["--sandbox"], env=clean_env(PYTHONTZPATH=str(tmp_path)))
    with anyio.fail_after(60):
        async with Client(params, elicitation_callback=Answers("accept")) as client:
            agents = await client.call_tool("list_agents", {})
            created = await client.call_tool(
                "create_contact",
                {
                    "first_name": "Ida",
                    "last_name": "Roth",
                    "phone_number": NEW_YORK_NUMBER,
                    "timezone": "America/New_York",
                },
            )
            assert not created.is_error, created.content
            assert created.structured_content is not None and agents.structured_content is not None
            call = await client.call_tool(
                "call_now",
                {
                    "contact_id": created.structured_content["contact_id"],
                    "agent_id": agents.structured_content["agents"][0]["agent_id"],
                    "allow_outside_hours": True,  # the sandbox clock's hour must not decide this test
                },
            )
    assert created.structured_content["timezone"] == "America/New_York"
    assert not call.is_error, call.content
    assert call.structured_content is not None and call.structured_content["status"] == "started"


# ---- package metadata and the registry entry ------------------------------------------------------------------


def _project() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return project


def test_package_links_to_its_repository_issues_changelog_and_docs() -> None:
    urls = _project()["urls"]
    repository = _json(SERVER_JSON)["repository"]["url"]
    assert set(urls) >= {"Homepage", "Repository", "Issues", "Changelog", "Documentation"}
    assert urls["Repository"] == repository
    assert all(url.startswith(repository) for url in urls.values())
    assert urls["Issues"] == f"{repository}/issues"
    assert urls["Changelog"].endswith("/CHANGELOG.md") and (REPO / "CHANGELOG.md").is_file()


def test_tzdata_is_a_dependency_on_every_platform() -> None:
    # Unconditional: minimal Linux containers may lack the system database too, not only Windows.
    names = [re.split(r"[^A-Za-z0-9._-]", requirement, maxsplit=1)[0] for requirement in _project()["dependencies"]]
    assert "tzdata" in names


def _registry_validator() -> jsonschema.Draft7Validator:
    schema_url = _json(SERVER_JSON)["$schema"]
    schemas = [_json(path) for path in SCHEMAS.glob("*.json")]
    (schema,) = [schema for schema in schemas if schema.get("$id") == schema_url]
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def test_server_json_is_valid_against_the_registry_schema_it_names() -> None:
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in _registry_validator().iter_errors(_json(SERVER_JSON))
    ]
    assert errors == []


def test_the_vendored_registry_schema_rejects_what_the_registry_rejects() -> None:
    # Guards against a vendored file that accepts anything (an empty or wrong schema would pass the test above).
    validator = _registry_validator()
    server = _json(SERVER_JSON)
    too_long = {**server, "description": "x" * 101}
    latest = {**server, "packages": [{**server["packages"][0], "version": "latest"}]}
    assert not validator.is_valid(too_long) and not validator.is_valid(latest)
    assert not validator.is_valid({key: value for key, value in server.items() if key != "name"})


# ---- HTTP health probe ----------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_health_probe_answers_without_a_key_and_without_asking_telli() -> None:
    sim = TelliSimulator(api_keys=(TEST_API_KEY,), seed_demo=True)
    # A deployment that refuses every request without Authorization: the probe must still pass.
    config = Settings(api_key=TEST_API_KEY, server_key_over_http=ServerKeyUse.REFUSE)
    server = build_server(Backend.simulated(config, sim))
    with serving(http_app(server, config, "127.0.0.1")) as base:
        async with httpx2.AsyncClient(base_url=base, timeout=10) as http:
            health = await http.get("/healthz")
            nested = await http.get("/healthz/mcp")
            mcp = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert nested.status_code == 401 and mcp.status_code == 401  # only the probe's exact path is open
    assert sim.request_log == []


# ---- portable tool schemas ------------------------------------------------------------------------------------


def _type_arrays(node: Any, path: str = "") -> list[str]:
    """Paths of every `type` given as a list, anywhere in a schema."""
    if isinstance(node, list):
        return [found for index, item in enumerate(node) for found in _type_arrays(item, f"{path}/{index}")]
    if not isinstance(node, dict):
        return []
    here = [f"{path}/type"] if isinstance(node.get("type"), list) else []
    return here + [found for key, value in node.items() for found in _type_arrays(value, f"{path}/{key}")]


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_tool_schemas_spell_nullable_as_any_of_and_null_results_validate(mode: str) -> None:
    sim = TelliSimulator(api_keys=(TEST_API_KEY,), seed_demo=True)
    config = Settings(api_key=TEST_API_KEY, toolsets=("all",))
    server = build_server(Backend.simulated(config, sim))
    async with Client(server, mode=mode, cache=None) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        agents = await client.call_tool("list_agents", {})
    arrays = [
        f"{name}{where}"
        for name, tool in tools.items()
        for where in _type_arrays(tool.input_schema, ":input") + _type_arrays(tool.output_schema or {}, ":output")
    ]
    agents_schema = tools["list_agents"].output_schema
    assert arrays == []
    assert agents_schema is not None and agents.structured_content is not None
    assert agents_schema["properties"]["next_cursor"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert agents.structured_content["next_cursor"] is None  # the demo account's agents fit on one page
    jsonschema.validate(agents.structured_content, agents_schema)
