"""Settings for telli-mcp, read from the environment (never from argv for the API key).

Every setting has one environment variable; the CLI may override the non-secret ones (`CLI_FLAGS`). Nothing
here is read at import time: call `Settings()` when the process starts. The attribute docstrings below are the
settings' descriptions: the README configuration table is generated from them (`python -m telli_mcp.docs`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Final, get_args

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from telli_mcp.urls import DEFAULT_BASE_URL, public_url
from telli_mcp.zones import DEFAULT_ACCOUNT_TIMEZONE, check_iana_zone

__all__ = [
    "CLI_FLAGS",
    "DEFAULT_BASE_URL",
    "LOG_LEVELS",
    "ConfirmMode",
    "ServerKeyUse",
    "Settings",
    "Transport",
    "default_data_dir",
    "describe_invalid",
    "env_var",
    "looks_like_placeholder",
    "public_url",
    "resolve_data_dir",
    "unsubstituted_placeholders",
    "with_overrides",
]

APP_NAME = "telli-mcp"
LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_OUTCOME_KEY_CHARS = 64
_OUTCOME_KEY = re.compile(r"[\w -]*[^\W_][\w -]*")
"""A custom call outcome's name: telli's are snake_case; spaces and hyphens are accepted as a label may show them."""


class ConfirmMode(StrEnum):
    """How call-placing and deleting tools obtain the human's yes."""

    AUTO = "auto"
    """Ask through elicitation when the client supports it, else return a preview and a confirmation token."""
    ELICIT = "elicit"
    """Only ask through elicitation; refuse when the client cannot be asked."""
    TOKEN = "token"
    """Always return a preview and a single-use confirmation token."""
    OFF = "off"
    """No confirmation (unattended automation; must be chosen explicitly)."""


class ServerKeyUse(StrEnum):
    """Whether an HTTP request without an `Authorization` header may act with the server's own TELLI_API_KEY."""

    AUTO = "auto"
    """Allow it only while the server listens on a loopback address (a personal server); refuse it otherwise."""
    ALLOW = "allow"
    """Allow it on any address (a single-tenant deployment that trusts everything that can reach it)."""
    REFUSE = "refuse"
    """Refuse it: every HTTP request must bring its own key as `Authorization: Bearer <telli key>`."""


class Transport(StrEnum):
    STDIO = "stdio"
    HTTP = "http"


class Settings(BaseModel):
    """Runtime configuration of telli-mcp.

    `Settings()` reads each setting from its environment variable (`env_var`; the name in any case), and a keyword
    argument, by the setting's name, takes precedence over the environment. A value read from the environment is
    the variable's text, validated like any other input (`true`, `1`, `yes` for a flag; a comma-separated list).
    """

    # The attribute docstrings below are the settings' documentation; `telli_mcp.docs` reads them from the source
    # for the README (pydantic's `use_attribute_docstrings` would parse this file at every start instead).
    # Inputs stay out of the errors' text (a traceback, a log): a secret's value (a key, the database URL's password)
    # would be in it; `describe_invalid` shows the others'.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, validate_default=True, hide_input_in_errors=True)

    def __init__(self, **values: Any) -> None:
        # Reading a dozen variables needs no settings library: pydantic-settings took 15 ms of every start to import.
        super().__init__(**_from_environment(given=values), **values)

    api_key: SecretStr | None = Field(default=None, validation_alias="TELLI_API_KEY")
    """telli API key (Settings > API & Webhooks in the telli app)."""

    api_base_url: str = Field(default=DEFAULT_BASE_URL, validation_alias="TELLI_API_BASE_URL")
    """Base URL of the telli API."""

    timeout_seconds: float = Field(default=30.0, gt=0, validation_alias="TELLI_TIMEOUT_SECONDS")
    """Timeout of one HTTP request to telli, from connecting to the last byte of the answer, in seconds."""

    max_retries: int = Field(default=3, ge=0, le=10, validation_alias="TELLI_MAX_RETRIES")
    """How often a request that is safe to repeat is retried on 429/502/503/504 or a connection error."""

    retry_deadline_seconds: float = Field(default=60.0, gt=0, validation_alias="TELLI_RETRY_DEADLINE_SECONDS")
    """Upper bound on the total time spent on one request including its retries, in seconds."""

    tool_deadline_seconds: float = Field(default=60.0, gt=0, validation_alias="TELLI_MCP_TOOL_DEADLINE_SECONDS")
    """Upper bound on one tool call's work against telli (every request, retry and read, however slowly telli
    answers), in seconds; the tool then answers with what it knows."""

    elicitation_timeout_seconds: float = Field(
        default=300.0, gt=0, validation_alias="TELLI_MCP_ELICITATION_TIMEOUT_SECONDS"
    )
    """How long a confirmation question waits for the human's answer, in seconds; then nothing is done."""

    # The default is not validated: it is a zone (a test says so), and checking a name lists the whole time-zone
    # database, some 15 ms of every start.
    account_timezone: Annotated[str, AfterValidator(check_iana_zone)] = Field(
        default=DEFAULT_ACCOUNT_TIMEZONE, validation_alias="TELLI_ACCOUNT_TIMEZONE", validate_default=False
    )
    """Your telli account's time zone (telli calls contacts without a time zone on this clock; telli's API does not
    report it, so set it here if it is not Europe/Berlin)."""

    opt_out_key: str | None = Field(default=None, validation_alias="TELLI_MCP_OPT_OUT_KEY")
    """The custom call outcome your agents set when a person asks not to be called again (e.g.
    `wants_no_more_calls`; case, spaces and hyphens ignored). A call whose outcome has it true counts as an opt-out
    in get_call, wait_for_call_result, call_stats and campaign status, besides the built-in names (`opt_out`,
    `do_not_call`, `dnc`, `unsubscribe`, ...) and phrases in the call summary."""

    read_only: bool = Field(default=False, validation_alias=AliasChoices("TELLI_MCP_READ_ONLY"))
    """Register read tools only."""

    toolsets: tuple[str, ...] = Field(default=("default",), validation_alias="TELLI_MCP_TOOLSETS")
    """Toolsets to enable: `default`, `all`, or toolset names, comma separated."""

    confirm: ConfirmMode = Field(default=ConfirmMode.AUTO, validation_alias="TELLI_MCP_CONFIRM")
    """How call-placing and deleting tools obtain the human's confirmation."""

    sandbox: bool = Field(default=False, validation_alias="TELLI_MCP_SANDBOX")
    """Run against the built-in telli simulator with demo data instead of the real API."""

    state_secret: SecretStr | None = Field(default=None, validation_alias="TELLI_MCP_STATE_SECRET")
    """Shared secret for confirmation tokens and sealed request state; set the same value on every replica.
    Default: a random secret per process."""

    database_url: SecretStr | None = Field(default=None, validation_alias="TELLI_MCP_DATABASE_URL")
    """Several replicas: the PostgreSQL database they share, `postgresql://user:password@host:5432/database` (needs
    `pip install 'telli-mcp[postgres]'`). It holds the campaign ledger, the do-not-call list, webhook events, the
    contact index and spent confirmation tokens, so every replica sees the same. Default: SQLite files in the data
    directory."""

    data_dir: str | None = Field(default=None, validation_alias="TELLI_MCP_DATA_DIR")
    """Where the campaign ledger, do-not-call list, webhook events and contact index live (in the shared database
    instead with TELLI_MCP_DATABASE_URL), each file readable by its owner only. Default: the platform's user data
    directory for telli-mcp."""

    leads_dir: str | None = Field(default=None, validation_alias="TELLI_MCP_LEADS_DIR")
    """The folders `leads_file` paths must be in, separated like PATH (a CSV/JSON file, at most 20 MB; never under
    /proc, /sys, /dev). Default: your home directory and the working directory."""

    log_level: str = Field(default="WARNING", validation_alias="TELLI_MCP_LOG_LEVEL")
    """Log level for stderr logging (DEBUG, INFO, WARNING, ERROR, CRITICAL; any case)."""

    allowed_hosts: tuple[str, ...] = Field(default=(), validation_alias="TELLI_MCP_ALLOWED_HOSTS")
    """HTTP mode: extra Host header values to accept besides loopback (e.g. `mcp.example.com`, `mcp.example.com:*`),
    comma separated; `*` switches the DNS-rebinding protection off."""

    allowed_origins: tuple[str, ...] = Field(default=(), validation_alias="TELLI_MCP_ALLOWED_ORIGINS")
    """HTTP mode: extra Origin header values to accept besides loopback (e.g. `https://app.example.com`)."""

    server_key_over_http: ServerKeyUse = Field(
        default=ServerKeyUse.AUTO, validation_alias="TELLI_MCP_SERVER_KEY_OVER_HTTP"
    )
    """HTTP mode: whether a request without `Authorization` may use TELLI_API_KEY (`auto`: only on a loopback
    bind)."""

    max_sessions: int = Field(default=1000, ge=1, validation_alias="TELLI_MCP_MAX_SESSIONS")
    """HTTP mode: most open legacy-era (2025-11-25) sessions. When full, a session with no request in flight is
    closed to admit a new one (idle before connected, the caller holding the most first, least recently active
    first); 503 with Retry-After only while every session is busy."""

    session_idle_seconds: float = Field(default=600.0, gt=0, validation_alias="TELLI_MCP_SESSION_IDLE_SECONDS")
    """HTTP mode: a legacy-era session with no request for this many seconds is closed."""

    webhook_secret: SecretStr | None = Field(default=None, validation_alias="TELLI_MCP_WEBHOOK_SECRET")
    """The `whsec_` signing secret of telli's webhook endpoint for TELLI_API_KEY's account (telli app: Settings >
    API & Webhooks > Configure, then the endpoint's signing secret). Turns on the receiver at `/webhooks/telli`
    (HTTP mode, or `telli-mcp webhooks serve`), so call results arrive in real time."""

    webhook_accounts: SecretStr | None = Field(default=None, validation_alias="TELLI_MCP_WEBHOOK_ACCOUNTS")
    """HTTP mode, several accounts: JSON `{"<name>": {"secret": "whsec_...", "account": "<fingerprint>"}}`, one
    endpoint `/webhooks/telli/<name>` per account (`telli-mcp webhooks fingerprint` prints a key's fingerprint)."""

    @field_validator("webhook_secret")
    @classmethod
    def _check_webhook_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None:
            return None
        key = info.data.get("api_key")
        if key is None:
            raise ValueError("needs TELLI_API_KEY (the account its events belong to); see TELLI_MCP_WEBHOOK_ACCOUNTS")
        _check_webhooks("TELLI_MCP_WEBHOOK_SECRET", server_key=key, secret=value, accounts=None)
        return value

    @field_validator("webhook_accounts")
    @classmethod
    def _check_webhook_accounts(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _check_webhooks("TELLI_MCP_WEBHOOK_ACCOUNTS", server_key=None, secret=None, accounts=value)
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        from telli_mcp.database.url import check_database_url  # only when set: starting without one loads none of it

        return SecretStr(check_database_url(value.get_secret_value()))

    @field_validator("toolsets", "allowed_hosts", "allowed_origins", mode="before")
    @classmethod
    def _split_toolsets(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("opt_out_key")
    @classmethod
    def _check_opt_out_key(cls, value: str | None) -> str | None:
        # Checked at start: a key that can never match a telli outcome name would silently detect nothing.
        if value is None or not value.strip():
            return None
        key = value.strip()
        if len(key) > _OUTCOME_KEY_CHARS or not _OUTCOME_KEY.fullmatch(key):
            raise ValueError(
                "must be the name of a custom call outcome, e.g. wants_no_more_calls (letters, digits, _, - and "
                f"spaces, at most {_OUTCOME_KEY_CHARS} characters)"
            )
        return key

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        # Checked here, not when logging is configured, so a typo stops the start instead of a traceback later.
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level


def _check_webhooks(variable: str, **configured: SecretStr | None) -> None:
    """Build the webhook endpoints one setting configures (the one place their rules live), as a field error.

    Imported only when a webhook setting is set: starting without one loads none of it."""
    from telli_mcp.webhooks.accounts import WebhookConfigError, webhook_endpoints

    try:
        webhook_endpoints(**configured)
    except WebhookConfigError as err:
        raise ValueError(str(err).removeprefix(variable).strip()) from None


CLI_FLAGS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "read_only": "--read-only",
        "toolsets": "--toolsets",
        "confirm": "--confirm",
        "log_level": "--log-level",
        "sandbox": "--sandbox",
    }
)
"""The command-line flag that overrides each setting; secrets (the API key) deliberately have none."""


def _from_environment(*, given: Mapping[str, object]) -> dict[str, str]:
    """The environment's text for each setting not in `given` (by name or variable), keyed by its variable."""
    environment = {name.upper(): value for name, value in os.environ.items()}
    found: dict[str, str] = {}
    for name in Settings.model_fields:
        variable = env_var(name)
        if name not in given and variable not in given and variable.upper() in environment:
            found[variable] = environment[variable.upper()]
    return found


def env_var(field_name: str) -> str:
    """The environment variable of a setting, e.g. `TELLI_API_KEY` for `api_key`."""
    alias = Settings.model_fields[field_name].validation_alias
    if isinstance(alias, AliasChoices):
        alias = alias.choices[0]
    if not isinstance(alias, str):
        raise TypeError(f"setting {field_name!r} has no single environment variable")
    return alias


_PLACEHOLDER = re.compile(r"^\s*(\$\{[^}]*\}|\{\{[^}]*\}\}|\$[A-Z_][A-Z0-9_]*)\s*$")


def looks_like_placeholder(value: str) -> bool:
    """True for `${...}`, `{{...}}` or `$NAME` left unsubstituted by an MCP client's config."""
    return bool(_PLACEHOLDER.match(value))


def _strings(value: object) -> list[str]:
    if isinstance(value, SecretStr):
        return [value.get_secret_value()]
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple | list):
        return [item for item in value if isinstance(item, str)]
    return []


def unsubstituted_placeholders(settings: Settings) -> list[str]:
    """Environment variable names of the string settings whose value is an unsubstituted placeholder.

    Names only, never values: one of them may be the API key.
    """
    return [
        env_var(name)
        for name in type(settings).model_fields
        if any(looks_like_placeholder(text) for text in _strings(getattr(settings, name)))
    ]


def default_data_dir() -> Path:
    """The platform's user data directory for telli-mcp (not created here)."""
    from platformdirs import user_data_path  # lazily: only the doctor and the campaign ledger need it

    return user_data_path(APP_NAME, appauthor=False)


def resolve_data_dir(settings: Settings) -> Path:
    """`TELLI_MCP_DATA_DIR` when set (with `~` expanded), else the platform's user data directory."""
    if settings.data_dir:
        return Path(settings.data_dir).expanduser()
    return default_data_dir()


def with_overrides(settings: Settings, overrides: Mapping[str, object]) -> Settings:
    """`settings` with the command line's values, validated like the environment's (raises `ValidationError`).

    `model_copy(update=...)` would skip validation, so a bad flag would only fail later, with a traceback.
    """
    if not overrides:
        return settings
    return type(settings).model_validate({**dict(settings), **overrides})


_BOOLEAN = "true, false, 1, 0, yes, no, on, off"
_BOUNDS = (("gt", "greater than"), ("ge", "at least"), ("lt", "less than"), ("le", "at most"))


def _allowed(name: str) -> str | None:
    """The values a setting accepts, in words, derived from its declaration (one place for each rule)."""
    if name == "log_level":
        return f"{', '.join(LOG_LEVELS)} (any case)"
    annotation = Settings.model_fields[name].annotation
    if annotation is bool:
        return _BOOLEAN
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return ", ".join(annotation)
    if annotation in (int, float):
        kind = "a whole number" if annotation is int else "a number"
        limits = [
            f"{words} {getattr(meta, attr)}"
            for meta in Settings.model_fields[name].metadata
            for attr, words in _BOUNDS
            if hasattr(meta, attr)
        ]
        return " ".join([kind, " and ".join(limits)]).strip()
    return None


def _field_and_label(loc: str) -> tuple[str | None, str]:
    """Map an error location to (setting, what the user typed it as): a flag for a field name, else the variable."""
    if loc in Settings.model_fields:
        return loc, CLI_FLAGS.get(loc, env_var(loc))
    for name in Settings.model_fields:
        if env_var(name).upper() == loc.upper():
            return name, env_var(name)
    return None, loc


def _is_secret(name: str | None) -> bool:
    if name is None:
        return False
    annotation = Settings.model_fields[name].annotation
    return annotation is SecretStr or SecretStr in get_args(annotation)


def describe_invalid(err: ValidationError) -> str:
    """One line naming each bad variable or flag, its value (never a secret's) and the values it accepts."""
    parts = []
    for error in err.errors():
        field_name, label = _field_and_label(str(error["loc"][0]) if error["loc"] else "settings")
        value = "(hidden)" if _is_secret(field_name) else repr(error.get("input"))
        allowed = _allowed(field_name) if field_name else None
        reason = f"allowed: {allowed}" if allowed else str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{label}={value} is not valid; {reason}")
    return ". ".join(parts)
