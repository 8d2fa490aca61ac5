"""Checks of the settings: they load, hold no unsubstituted placeholders, name a key, URL and toolsets that work."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from pydantic import ValidationError

from telli_mcp.config import (
    LOG_LEVELS,
    ConfirmMode,
    Settings,
    env_var,
    looks_like_placeholder,
    unsubstituted_placeholders,
)
from telli_mcp.doctor.results import Check, Status
from telli_mcp.toolsets import UnknownToolsetError, resolve_toolsets

__all__ = [
    "check_base_url",
    "check_env_placeholders",
    "check_key",
    "check_log_level",
    "check_mode",
    "check_placeholders",
    "check_toolsets",
    "load_settings",
]

KEY_VAR = env_var("api_key")


def _invalid(err: ValidationError, environ: Mapping[str, str]) -> str:
    # Only the variable names and pydantic's message: the offending values may be secrets.
    upper = {name.upper(): value for name, value in environ.items()}
    parts = []
    for error in err.errors():
        name = str(error["loc"][0]) if error["loc"] else "settings"
        hint = " (an unsubstituted placeholder)" if looks_like_placeholder(upper.get(name.upper(), "")) else ""
        parts.append(f"{name}{hint}: {error['msg']}")
    return "; ".join(parts)


def load_settings(
    factory: Callable[[], Settings], environ: Mapping[str, str] | None = None
) -> tuple[Settings | None, Check]:
    """Build the settings as the server would; a failure names the variables, never their values."""
    try:
        settings = factory()
    except ValidationError as err:
        detail = _invalid(err, os.environ if environ is None else environ)
        return None, Check(name="settings", status=Status.FAIL, detail=detail)
    return settings, Check(name="settings", status=Status.PASS, detail="environment and flags are valid")


def _placeholder_check(names: list[str]) -> Check:
    if names:
        return Check(
            name="placeholders",
            status=Status.FAIL,
            detail=f"{', '.join(names)}: unsubstituted placeholder (like ${{...}}); your MCP client did not fill it in",
        )
    return Check(name="placeholders", status=Status.PASS, detail="none left unsubstituted")


def check_placeholders(settings: Settings) -> Check:
    """Placeholders in settings other than the key (the key has its own check)."""
    return _placeholder_check([name for name in unsubstituted_placeholders(settings) if name != KEY_VAR])


def check_env_placeholders(environ: Mapping[str, str] | None = None) -> Check:
    """Placeholders in the raw environment, for when the settings could not even be loaded."""
    environ = os.environ if environ is None else environ
    upper = {name.upper(): value for name, value in environ.items()}
    names = [env_var(name) for name in Settings.model_fields]
    return _placeholder_check([name for name in names if looks_like_placeholder(upper.get(name, ""))])


def check_key(settings: Settings) -> Check:
    if settings.sandbox:
        return Check(name="API key", status=Status.PASS, detail="sandbox: the built-in demo key is used")
    key = settings.api_key.get_secret_value().strip() if settings.api_key is not None else ""
    if not key:
        return Check(
            name="API key",
            status=Status.FAIL,
            detail=f"{KEY_VAR} is not set: put your key (telli app: Settings > API & Webhooks) in the "
            "MCP client's env block, or try --sandbox",
        )
    if looks_like_placeholder(key):
        return Check(
            name="API key",
            status=Status.FAIL,
            detail=f"{KEY_VAR} is an unsubstituted placeholder (like ${{...}}): your MCP client did not "
            "fill it in; put the real key in the client's env block",
        )
    return Check(name="API key", status=Status.PASS, detail=f"{KEY_VAR} is set")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(settings: Settings) -> Check:
    if settings.sandbox:
        return Check(name="base URL", status=Status.PASS, detail="sandbox: the in-process telli simulator")
    url = urlsplit(settings.api_base_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        return Check(
            name="base URL",
            status=Status.FAIL,
            detail=f"{env_var('api_base_url')} must be an http(s) URL like https://api.telli.com",
        )
    if url.scheme == "http" and not _loopback(url.hostname):
        return Check(
            name="base URL",
            status=Status.WARN,
            detail=f"{settings.api_base_url} is plain http: the API key would travel unencrypted",
        )
    return Check(name="base URL", status=Status.PASS, detail=settings.api_base_url)


def check_toolsets(settings: Settings) -> Check:
    try:
        toolsets = resolve_toolsets(settings.toolsets)
    except UnknownToolsetError as err:
        return Check(name="toolsets", status=Status.FAIL, detail=str(err))
    requested = ",".join(settings.toolsets)
    return Check(name="toolsets", status=Status.PASS, detail=f"{', '.join(sorted(toolsets))} (from {requested!r})")


def check_mode(settings: Settings) -> Check:
    mode = f"read-only: {'on' if settings.read_only else 'off'}; confirm: {settings.confirm}"
    if settings.confirm is ConfirmMode.OFF and not settings.read_only:
        return Check(
            name="guardrails", status=Status.WARN, detail=f"{mode}: calls and deletes run without asking anyone"
        )
    return Check(name="guardrails", status=Status.PASS, detail=mode)


def check_log_level(settings: Settings) -> Check:
    if settings.log_level.upper() not in LOG_LEVELS:
        return Check(
            name="log level",
            status=Status.FAIL,
            detail=f"{env_var('log_level')} must be one of {', '.join(LOG_LEVELS)}",
        )
    return Check(name="log level", status=Status.PASS, detail=settings.log_level.upper())
