"""The settings' defaults are valid values: some are not validated when the settings are read (see `Settings`)."""

from __future__ import annotations

from telli_mcp.config import Settings


def test_every_default_passes_the_check_a_value_from_the_environment_gets() -> None:
    defaults = {name: field.default for name, field in Settings.model_fields.items()}
    assert Settings.model_validate(defaults) == Settings.model_construct(), "a default fails its own setting's check"
