"""TELLI_MCP_OPT_OUT_KEY: the account's own opt-out outcome, read from the environment and checked at start, so a
value that could never name a telli outcome stops the start with the variable named instead of detecting nothing."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from telli_mcp.config import Settings, describe_invalid, env_var

VARIABLE = "TELLI_MCP_OPT_OUT_KEY"


def test_the_variable_is_the_setting_s_and_unset_means_only_the_built_in_names() -> None:
    assert env_var("opt_out_key") == VARIABLE
    assert Settings().opt_out_key is None


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("wants_no_more_calls", "wants_no_more_calls"),
        ("  Wants no-more calls ", "Wants no-more calls"),
        ("keine_anrufe_mehr_gewünscht", "keine_anrufe_mehr_gewünscht"),
        ("", None),
        ("   ", None),
    ],
)
def test_a_key_from_the_environment_is_trimmed_and_an_empty_one_is_none(
    monkeypatch: pytest.MonkeyPatch, text: str, kept: str | None
) -> None:
    monkeypatch.setenv(VARIABLE, text)

    assert Settings().opt_out_key == kept


@pytest.mark.parametrize("text", ["wants\nno_calls", "opt_out;drop", "___", "-", "x" * 65, "{{opt_out}}"])
def test_a_value_that_cannot_name_an_outcome_stops_the_start_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setenv(VARIABLE, text)

    with pytest.raises(ValidationError) as raised:
        Settings()

    message = describe_invalid(raised.value)
    assert message.startswith(f"{VARIABLE}=") and "custom call outcome" in message
