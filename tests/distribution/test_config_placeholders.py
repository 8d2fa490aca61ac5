"""Settings: placeholders an MCP client left unsubstituted are found in every setting, by variable name only."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from telli_mcp.cli import main
from telli_mcp.config import CLI_FLAGS, Settings, env_var, looks_like_placeholder, unsubstituted_placeholders
from telli_mcp.docs import attribute_docstrings
from telli_mcp.doctor.results import Status
from telli_mcp.doctor.settings_checks import check_env_placeholders

PLACEHOLDERS = ["${TELLI_API_KEY}", "${env:TELLI_API_KEY}", "{{ telli_key }}", "$TELLI_API_KEY", " ${X} "]
REAL_VALUES = ["tk_live_4f9a8b7c6d5e", "https://api.telli.com", "WARNING", "contacts,calls", "pa$$word", "$"]
SETTINGS = list(Settings.model_fields)


@pytest.mark.parametrize("value", PLACEHOLDERS)
def test_placeholder_forms_are_recognised(value: str) -> None:
    assert looks_like_placeholder(value)


@pytest.mark.parametrize("value", REAL_VALUES)
def test_real_values_are_not_mistaken_for_placeholders(value: str) -> None:
    assert not looks_like_placeholder(value)


@pytest.mark.parametrize("name", SETTINGS)
def test_a_placeholder_in_any_setting_is_reported_by_its_variable_name(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    variable = env_var(name)
    monkeypatch.setenv(variable, "${" + variable + "}")
    try:
        settings = Settings()
    except ValidationError:
        # Not a string setting (a number, a flag, a choice): it cannot even load; the doctor reads the raw env.
        check = check_env_placeholders()
        assert check.status is Status.FAIL and check.detail.startswith(f"{variable}:")
        return
    assert unsubstituted_placeholders(settings) == [variable]


def test_several_placeholders_are_all_reported_and_values_never_echoed() -> None:
    settings = Settings(api_key="${TELLI_API_KEY}", state_secret="{{secret}}", toolsets="contacts,$TOOLSETS")
    names = unsubstituted_placeholders(settings)
    assert names == ["TELLI_API_KEY", "TELLI_MCP_TOOLSETS", "TELLI_MCP_STATE_SECRET"]
    assert not any("$" in name or "{" in name for name in names)


def test_clean_settings_have_no_placeholders() -> None:
    assert unsubstituted_placeholders(Settings(api_key="tk_live_4f9a8b7c6d5e")) == []


def test_every_setting_has_a_description_and_an_environment_variable() -> None:
    documented = attribute_docstrings(Settings)
    for name in Settings.model_fields:
        assert documented.get(name), name
        assert env_var(name).startswith("TELLI_"), name


def test_the_cli_flags_named_in_the_settings_exist_and_the_key_has_none(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = capsys.readouterr().out
    assert set(CLI_FLAGS) <= set(SETTINGS)
    for flag in CLI_FLAGS.values():
        assert flag in help_text
    assert "api_key" not in CLI_FLAGS and "state_secret" not in CLI_FLAGS
