"""Settings for telli-mcp, read from the environment (never from argv for the API key).

Every setting has one environment variable; the CLI may override the non-secret ones. Nothing here is read
at import time: call `Settings()` (or `load_settings()`) when the process starts.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_BASE_URL = "https://api.telli.com"


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


class Transport(StrEnum):
    STDIO = "stdio"
    HTTP = "http"


class Settings(BaseSettings):
    """Runtime configuration of telli-mcp."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False, populate_by_name=True)

    api_key: SecretStr | None = Field(default=None, validation_alias="TELLI_API_KEY")
    """telli API key (Settings > API & Webhooks in the telli app)."""

    api_base_url: str = Field(default=DEFAULT_BASE_URL, validation_alias="TELLI_API_BASE_URL")
    """Base URL of the telli API."""

    timeout_seconds: float = Field(default=30.0, gt=0, validation_alias="TELLI_TIMEOUT_SECONDS")
    """Timeout of one HTTP request to telli, in seconds."""

    max_retries: int = Field(default=3, ge=0, le=10, validation_alias="TELLI_MAX_RETRIES")
    """How often a request that is safe to repeat is retried on 429/502/503/504 or a connection error."""

    retry_deadline_seconds: float = Field(default=60.0, gt=0, validation_alias="TELLI_RETRY_DEADLINE_SECONDS")
    """Upper bound on the total time spent on one request including its retries, in seconds."""

    read_only: bool = Field(default=False, validation_alias=AliasChoices("TELLI_MCP_READ_ONLY"))
    """Register read tools only."""

    toolsets: Annotated[tuple[str, ...], NoDecode] = Field(
        default=("default",), validation_alias="TELLI_MCP_TOOLSETS"
    )
    """Toolsets to enable: `default`, `all`, or toolset names, comma separated."""

    confirm: ConfirmMode = Field(default=ConfirmMode.AUTO, validation_alias="TELLI_MCP_CONFIRM")
    """How call-placing and deleting tools obtain the human's confirmation."""

    sandbox: bool = Field(default=False, validation_alias="TELLI_MCP_SANDBOX")
    """Run against the built-in telli simulator with demo data instead of the real API."""

    state_secret: SecretStr | None = Field(default=None, validation_alias="TELLI_MCP_STATE_SECRET")
    """Shared secret for confirmation tokens and sealed request state; set the same value on every replica."""

    data_dir: str | None = Field(default=None, validation_alias="TELLI_MCP_DATA_DIR")
    """Where the campaign ledger lives; default: the platform's user data directory."""

    log_level: str = Field(default="WARNING", validation_alias="TELLI_MCP_LOG_LEVEL")
    """Log level for stderr logging (DEBUG, INFO, WARNING, ERROR)."""

    @field_validator("toolsets", mode="before")
    @classmethod
    def _split_toolsets(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value
