"""The distribution files say what the code does: registry entry, Claude Desktop bundle, client snippets, Docker.

A user installs telli-mcp from these files without reading the code, so a tool, a setting or a flag that
drifts here breaks their setup silently. Lists are derived from the code, never copied into this test.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from telli_mcp._version import __version__
from telli_mcp.backend import Backend
from telli_mcp.cli import _parser
from telli_mcp.config import ConfirmMode, Settings
from telli_mcp.server import build_server
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator
from telli_mcp.toolsets import TOOLSETS

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "manifests"
CLIENTS = MANIFESTS / "clients"
SERVER_JSON = MANIFESTS / "server.json"
BUNDLE = MANIFESTS / "mcpb"


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _setting_env_vars() -> dict[str, str]:
    """Environment variable -> Settings field, from the fields' validation aliases."""
    names: dict[str, str] = {}
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias
        choices = [alias] if isinstance(alias, str) else getattr(alias, "choices", [])
        names.update({str(choice): field_name for choice in choices})
    return names


SETTINGS_ENV = _setting_env_vars()


def _server_json_env() -> dict[str, dict[str, Any]]:
    (package,) = _json(SERVER_JSON)["packages"]
    return {entry["name"]: entry for entry in package["environmentVariables"]}


# ---- versions and the catalogue -------------------------------------------------------------------------------


def test_every_manifest_carries_the_package_version() -> None:
    server = _json(SERVER_JSON)
    bundle_project = tomllib.loads((BUNDLE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert server["version"] == __version__
    assert [package["version"] for package in server["packages"]] == [__version__]
    assert _json(BUNDLE / "manifest.json")["version"] == __version__
    assert bundle_project["version"] == __version__
    assert bundle_project["dependencies"] == [f"telli-mcp=={__version__}"]


async def _default_catalogue(data_dir: Path) -> tuple[set[str], set[str]]:
    sim = TelliSimulator(api_keys=(TEST_API_KEY,), seed_demo=True)
    server = build_server(Backend.simulated(Settings(api_key=TEST_API_KEY, data_dir=str(data_dir)), sim))
    async with Client(server, cache=None) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        prompts = {prompt.name for prompt in (await client.list_prompts()).prompts}
    return tools, prompts


@pytest.mark.anyio
async def test_bundle_lists_exactly_the_tools_and_prompts_of_the_default_server(tmp_path: Path) -> None:
    tools, prompts = await _default_catalogue(tmp_path)
    manifest = _json(BUNDLE / "manifest.json")
    assert {tool["name"] for tool in manifest["tools"]} == tools
    assert {prompt["name"] for prompt in manifest["prompts"]} == prompts
    assert all(tool.get("description") for tool in manifest["tools"])
    assert "advance_sandbox_clock" not in tools  # sandbox-only: a real install never shows it


def test_derived_manifest_parts_are_up_to_date() -> None:
    # Descriptions, prompt texts and versions: manifests/sync.py regenerates them; --check says when it must run.
    result = subprocess.run(
        [sys.executable, str(MANIFESTS / "sync.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout


# ---- server.json (MCP Registry) ---------------------------------------------------------------------------------


def test_server_json_declares_every_setting_and_only_settings() -> None:
    assert set(_server_json_env()) == set(SETTINGS_ENV)


def _expected_default(field_name: str) -> str | None:
    default = Settings.model_fields[field_name].default
    if default is None:
        return None
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, tuple):
        return ",".join(default)
    if isinstance(default, float) and default.is_integer():
        return str(int(default))
    return str(default)  # a StrEnum (ConfirmMode) prints as its value


@pytest.mark.parametrize("env_var", sorted(SETTINGS_ENV))
def test_server_json_defaults_and_secrecy_match_the_settings_model(env_var: str) -> None:
    entry = _server_json_env()[env_var]
    field_name = SETTINGS_ENV[env_var]
    assert entry.get("default") == _expected_default(field_name)
    is_secret = "SecretStr" in str(Settings.model_fields[field_name].annotation)  # the model hides it too
    assert entry.get("isSecret", False) is is_secret
    assert entry["description"]
    if "choices" in entry and "default" in entry:
        assert entry["default"] in entry["choices"]


def test_server_json_offers_exactly_the_confirmation_modes_and_toolsets_the_server_knows() -> None:
    env = _server_json_env()
    assert env["TELLI_MCP_CONFIRM"]["choices"] == [mode.value for mode in ConfirmMode]
    for toolset in TOOLSETS:
        assert toolset.name in env["TELLI_MCP_TOOLSETS"]["description"]


def test_server_json_fits_the_registry_rules() -> None:
    server = _json(SERVER_JSON)
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert server["$schema"].endswith("/server.schema.json")
    assert re.fullmatch(r"[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+", server["name"])
    assert 1 <= len(server["description"]) <= 100
    (package,) = server["packages"]
    assert (package["registryType"], package["identifier"]) == ("pypi", project["name"])
    assert package["transport"] == {"type": "stdio"}
    assert _server_json_env()["TELLI_API_KEY"]["isRequired"] is True


def test_readme_proves_pypi_ownership_to_the_registry() -> None:
    # The registry accepts a PyPI package only if its description (our README) names the server like this.
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"mcp-name: {_json(SERVER_JSON)['name']}" in readme


def test_server_json_remote_is_the_streamable_http_endpoint_with_a_secret_bearer_header() -> None:
    (remote,) = _json(SERVER_JSON)["remotes"]
    assert remote["type"] == "streamable-http"
    assert remote["url"].startswith("https://") and remote["url"].endswith("/mcp")
    assert set(re.findall(r"\{(\w+)\}", remote["url"])) == set(remote.get("variables", {}))
    (header,) = remote["headers"]
    assert header["name"] == "Authorization" and header["isSecret"] is True
    assert re.fullmatch(r"Bearer \{(\w+)\}", header["value"])
    variable = re.findall(r"\{(\w+)\}", header["value"])[0]
    assert header["variables"][variable]["isSecret"] is True


# ---- manifest.json (Claude Desktop bundle) ---------------------------------------------------------------------


def test_bundle_settings_reach_real_environment_variables() -> None:
    manifest = _json(BUNDLE / "manifest.json")
    user_config = manifest["user_config"]
    env = manifest["server"]["mcp_config"]["env"]
    assert set(env) <= set(SETTINGS_ENV)
    mapped = {}
    for name, value in env.items():
        match = re.fullmatch(r"\$\{user_config\.(\w+)\}", value)
        assert match and match.group(1) in user_config, f"{name}={value}"
        mapped[name] = user_config[match.group(1)]
    assert set(mapped) == {"TELLI_API_KEY", "TELLI_MCP_READ_ONLY", "TELLI_MCP_TOOLSETS", "TELLI_MCP_CONFIRM"}
    key = mapped["TELLI_API_KEY"]
    assert key["sensitive"] is True and key["required"] is True and "default" not in key
    assert mapped["TELLI_MCP_READ_ONLY"]["type"] == "boolean"
    for name in ("TELLI_MCP_READ_ONLY", "TELLI_MCP_TOOLSETS", "TELLI_MCP_CONFIRM"):
        option = mapped[name]
        expected = _expected_default(SETTINGS_ENV[name])
        assert str(option["default"]).lower() == str(expected).lower(), name
    for mode in ConfirmMode:
        assert mode.value in mapped["TELLI_MCP_CONFIRM"]["description"]
    for toolset in TOOLSETS:
        assert toolset.name in mapped["TELLI_MCP_TOOLSETS"]["description"]


def test_bundle_starts_the_telli_mcp_command_without_arguments_carrying_settings() -> None:
    server = _json(BUNDLE / "manifest.json")["server"]
    assert (BUNDLE / server["entry_point"]).is_file()
    assert server["mcp_config"]["args"][-1] == server["entry_point"]
    assert "telli_mcp.cli import main" in (BUNDLE / server["entry_point"]).read_text(encoding="utf-8")
    assert not any("user_config" in arg for arg in server["mcp_config"]["args"])


# ---- client snippets --------------------------------------------------------------------------------------------

SNIPPETS = sorted(CLIENTS.glob("*.json"))
KEYISH = re.compile(r"(?i)key|secret|token|bearer|passw|^[A-Za-z0-9_-]{24,}$")
PLACEHOLDER = re.compile(r"^(\$\{[^}]+\}|your-[a-z-]+)$")


def _servers(path: Path) -> dict[str, dict[str, Any]]:
    data = _json(path)
    servers = data.get("mcpServers", data.get("servers"))
    assert isinstance(servers, dict) and servers, f"{path.name} configures no server"
    return servers


def _telli_args(command: str, args: list[str]) -> list[str]:
    """The arguments telli-mcp itself receives, for a command that starts it."""
    if Path(command).name == "uvx":
        assert args[0] == "telli-mcp", args
        return args[1:]
    assert Path(command).name == "telli-mcp", command
    return args


def _assert_cli_accepts(args: list[str]) -> None:
    for arg in args:
        assert not KEYISH.search(arg), f"argument {arg!r} looks like a secret: keys belong in env"
    try:
        _parser().parse_args(args)
    except SystemExit:
        pytest.fail(f"telli-mcp rejects the arguments {args}")


def test_there_are_snippets_for_every_client_and_the_readme_lists_them() -> None:
    readme = (CLIENTS / "README.md").read_text(encoding="utf-8")
    files = [path.name for path in (*SNIPPETS, *CLIENTS.glob("*.sh"))]
    assert {
        "claude_desktop.uvx.json",
        "claude_desktop.pip.json",
        "claude_desktop.sandbox.json",
        "claude_code.sh",
        "cursor.mcp.json",
        "vscode.mcp.json",
        "http.mcp.json",
    } <= set(files)
    for name in files:
        assert f"`{name}`" in readme, f"{name} is not described in manifests/clients/README.md"


@pytest.mark.parametrize("path", SNIPPETS, ids=lambda path: path.name)
def test_snippet_starts_telli_mcp_with_real_flags_and_keys_only_in_env(path: Path) -> None:
    for name, server in _servers(path).items():
        env = server.get("env", {})
        assert set(env) <= set(SETTINGS_ENV), f"{name}: unknown settings {set(env) - set(SETTINGS_ENV)}"
        for value in env.values():
            assert PLACEHOLDER.match(value) or not KEYISH.search(value), f"{name}: {value!r}"
        if "TELLI_API_KEY" in env:
            assert PLACEHOLDER.match(env["TELLI_API_KEY"]), f"{name}: the key must be a placeholder"
        if "url" in server:
            assert server["url"].endswith("/mcp"), server["url"]
            (authorization,) = server["headers"].values()
            assert re.fullmatch(r"Bearer \$\{[^}]+\}", authorization), f"{name}: bearer token must be a variable"
            continue
        args = _telli_args(server["command"], server.get("args", []))
        _assert_cli_accepts(args)
        if "--sandbox" in args:
            assert "TELLI_API_KEY" not in env, f"{name}: the sandbox needs no key"
        else:
            assert "TELLI_API_KEY" in env, f"{name}: a real account needs TELLI_API_KEY in env"


def _claude_mcp_add_lines() -> list[list[str]]:
    lines = (CLIENTS / "claude_code.sh").read_text(encoding="utf-8").splitlines()
    commands = [shlex.split(line) for line in lines if line.strip() and not line.lstrip().startswith("#")]
    assert commands and all(command[:3] == ["claude", "mcp", "add"] for command in commands)
    return commands


@pytest.mark.parametrize("command", _claude_mcp_add_lines(), ids=lambda command: command[3])
def test_claude_code_lines_name_the_server_before_env_and_take_the_key_from_the_shell(command: list[str]) -> None:
    options = command[3:]
    # `--env` is variadic in Claude Code's CLI: a server name written after it is taken as another variable.
    assert not options[0].startswith("-"), "the server name must come right after `claude mcp add`"
    server_args = options[options.index("--") + 1 :] if "--" in options else []
    own = options[: options.index("--")] if "--" in options else options
    for flag, value in itertools.pairwise(own):
        if flag in ("--env", "-e"):
            name, _, assigned = value.partition("=")
            assert name in SETTINGS_ENV, value
            if name == "TELLI_API_KEY":
                assert assigned == f"${name}", "the key must come from the shell's environment, not be typed"
        if flag in ("--header", "-H"):
            assert value == "Authorization: Bearer $TELLI_API_KEY", value
    if server_args:
        _assert_cli_accepts(_telli_args(server_args[0], server_args[1:]))
        needs_key = "--sandbox" not in server_args
        assert ("--env" in own or "-e" in own) is needs_key


# ---- Dockerfile -------------------------------------------------------------------------------------------------


def test_dockerfile_serves_http_on_the_exposed_port_as_a_non_root_user() -> None:
    lines = (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines()
    cmd = json.loads(next(line for line in lines if line.startswith("CMD ")).removeprefix("CMD "))
    exposed = {line.split()[1] for line in lines if line.startswith("EXPOSE ")}
    assert cmd[0] == "telli-mcp"
    args = _parser().parse_args(cmd[1:])
    assert (args.transport, args.host, str(args.port)) == ("http", "0.0.0.0", "8000")
    assert exposed == {str(args.port)}
    user = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert user and user[-1] not in ("root", "0")
    assert not any("TELLI_API_KEY=" in line for line in lines), "a key must never be baked into the image"


def test_no_distribution_file_contains_a_real_looking_key() -> None:
    # Keys are long random strings; the only literal values allowed are placeholders and the public demo key.
    paths = [SERVER_JSON, BUNDLE / "manifest.json", *CLIENTS.iterdir(), REPO / "Dockerfile"]
    for path in paths:
        text = path.read_text(encoding="utf-8")
        for value in re.findall(r"TELLI_API_KEY[\"']?\s*[:=]\s*[\"']?([^\"'\s,}]+)", text):
            assert PLACEHOLDER.match(value) or value.startswith("$"), f"{path.name}: {value}"
