"""The Claude Desktop config block for this machine: the absolute command, the settings, never the key."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from telli_mcp.config import Settings, env_var, looks_like_placeholder
from telli_mcp.doctor.results import ClaudeDesktop

__all__ = ["KEY_PLACEHOLDER", "claude_desktop", "config_block", "config_path", "server_command"]

KEY_PLACEHOLDER = "<your telli API key>"
COMMAND = "telli-mcp"
_NOT_IN_ENV = ("api_key", "sandbox")
"""The key is always the placeholder; sandbox mode is the `--sandbox` argument."""


def _executable_name() -> str:
    return f"{COMMAND}.exe" if sys.platform == "win32" else COMMAND


def server_command(argv0: str | None = None) -> tuple[str, list[str]]:
    """Absolute command (and arguments) that starts this installation's server.

    Claude Desktop starts servers without the user's shell PATH, so a bare `telli-mcp` often fails there.
    """
    argv0 = sys.argv[0] if argv0 is None else argv0
    candidates = [
        Path(argv0) if Path(argv0).stem == COMMAND else None,
        Path(sys.executable).parent / _executable_name(),
    ]
    for candidate in candidates:
        if candidate is not None and candidate.is_file():
            return os.path.abspath(candidate), []
    found = shutil.which(COMMAND)
    if found:
        return os.path.abspath(found), []
    return os.path.abspath(sys.executable), ["-m", "telli_mcp"]


def _env_value(value: object) -> str | None:
    if isinstance(value, SecretStr) or value is None:
        return None  # other secrets (the state secret) matter for HTTP replicas, not for Claude Desktop
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        return ",".join(str(item) for item in value)
    text = str(value)
    return None if looks_like_placeholder(text) else text


def _changed_settings(settings: Settings) -> dict[str, str]:
    """Environment for the settings that differ from the defaults, so the block reproduces what was checked."""
    env = {}
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        if name in _NOT_IN_ENV or value == field.get_default():
            continue
        text = _env_value(value)
        if text is not None:
            env[env_var(name)] = text
    return env


def config_block(settings: Settings, *, command: tuple[str, list[str]] | None = None) -> dict[str, Any]:
    executable, args = command or server_command()
    env = _changed_settings(settings)
    if settings.sandbox:
        entry: dict[str, Any] = {"command": executable, "args": [*args, "--sandbox"]}
        name = "telli-sandbox"
    else:
        entry = {"command": executable, "args": args}
        env = {env_var("api_key"): KEY_PLACEHOLDER, **env}
        name = "telli"
    if not entry["args"]:
        del entry["args"]
    if env:
        entry["env"] = env
    return {"mcpServers": {name: entry}}


def config_path(
    platform: str | None = None, home: Path | None = None, environ: Mapping[str, str] | None = None
) -> tuple[Path, str | None]:
    """Where Claude Desktop keeps `claude_desktop_config.json` on this OS, and a note when that is unofficial."""
    platform = sys.platform if platform is None else platform
    home = Path.home() if home is None else home
    environ = os.environ if environ is None else environ
    if platform == "darwin":
        return home / "Library" / "Application Support" / "Claude" / "claude_desktop_config.json", None
    if platform == "win32":
        appdata = Path(environ["APPDATA"]) if environ.get("APPDATA") else home / "AppData" / "Roaming"
        return appdata / "Claude" / "claude_desktop_config.json", None
    config_home = Path(environ["XDG_CONFIG_HOME"]) if environ.get("XDG_CONFIG_HOME") else home / ".config"
    return config_home / "Claude" / "claude_desktop_config.json", (
        "Claude Desktop has no official Linux build; community builds read this path"
    )


def claude_desktop(settings: Settings) -> ClaudeDesktop:
    path, note = config_path()
    return ClaudeDesktop(config_path=str(path), note=note, config=config_block(settings))
