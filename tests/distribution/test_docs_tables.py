"""The README's configuration and tool tables are generated from the code and must be up to date."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from telli_mcp import docs
from telli_mcp.backend import open_backend
from telli_mcp.config import CLI_FLAGS, Settings, env_var
from telli_mcp.server import build_server

README = Path(__file__).resolve().parents[2] / "README.md"


def _rows(table: str) -> list[list[str]]:
    """Body rows of the first markdown table in `table`, split into cells."""
    lines = table.split("\n\n")[0].splitlines()[2:]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]


def test_readme_tables_are_up_to_date() -> None:
    text = README.read_text(encoding="utf-8")
    assert docs.render_readme(text) == text, (
        f"README.md's generated tables are stale (settings, tools, resources or prompts changed): "
        f"run `{docs.WRITE_COMMAND}` and commit the result"
    )


def test_config_table_has_one_row_per_setting_with_its_variable_flag_and_default() -> None:
    rows = {row[0].strip("`"): row for row in _rows(docs.config_table())}
    assert list(rows) == [env_var(name) for name in Settings.model_fields]
    for name, flag in CLI_FLAGS.items():
        assert rows[env_var(name)][1] == f"`{flag}`"
    assert rows["TELLI_API_KEY"][1:3] == ["—", "—"]
    assert rows["TELLI_MCP_TOOLSETS"][2] == "`default`"
    assert rows["TELLI_API_BASE_URL"][2] == "`https://api.telli.com`"
    assert "`off`" in rows["TELLI_MCP_CONFIRM"][3]


def test_config_table_ignores_the_local_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    before = docs.config_table() + docs.tool_table()
    monkeypatch.setenv("TELLI_MCP_READ_ONLY", "1")
    monkeypatch.setenv("TELLI_MCP_TOOLSETS", "status")
    assert docs.config_table() + docs.tool_table() == before


def _served_tool_names() -> set[str]:
    server = build_server(open_backend(Settings.model_construct(toolsets=("all",))))
    return {tool.name for tool in anyio.run(server.list_tools)}


def test_tool_table_lists_every_tool_with_its_toolset_and_risk() -> None:
    catalogue = docs.tool_catalogue()
    rows = {row[0].strip("`"): row for row in _rows(docs.tool_table(catalogue))}
    assert set(rows) == _served_tool_names() | {"advance_sandbox_clock"}
    assert rows["advance_sandbox_clock"][1] == "sandbox only"
    assert rows["delete_contact"][1:3] == ["contacts", "destructive"]
    assert rows["replace_phone_number"][1] == "phone_numbers_admin"
    assert all(row[3] and row[4] for row in rows.values()), "every tool needs a title and a description"


def test_tool_table_also_lists_resources_and_prompts() -> None:
    table = docs.tool_table()
    assert "| `telli://contacts/{contact_id}` | Contact | application/json |" in table
    assert "| `telli://properties` |" in table
    assert "| `review_call` | Review a call | `call_id` |" in table


def test_render_readme_replaces_only_the_marked_blocks() -> None:
    text = (
        "# Title\n\nIntro.\n\n<!-- tool-table:start -->\nold tools\n<!-- tool-table:end -->\n\nMiddle.\n\n"
        "<!-- config-table:start -->\n| old |\n<!-- config-table:end -->\n\nEnd.\n"
    )
    rendered = docs.render_readme(text)
    assert rendered.startswith("# Title\n\nIntro.\n\n<!-- tool-table:start -->")
    assert "\n\nMiddle.\n\n" in rendered and rendered.endswith("<!-- config-table:end -->\n\nEnd.\n")
    assert "old tools" not in rendered and "| old |" not in rendered
    assert docs.render_readme(rendered) == rendered


def test_render_readme_refuses_a_readme_without_markers() -> None:
    with pytest.raises(ValueError, match="config-table"):
        docs.render_readme("# Title\n")


def test_check_flag_fails_on_a_stale_readme_and_write_fixes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(
        "<!-- config-table:start -->\n<!-- config-table:end -->\n<!-- tool-table:start -->\n<!-- tool-table:end -->\n"
    )
    assert docs.main(["--check", "--readme", str(readme)]) == 1
    assert docs.WRITE_COMMAND in capsys.readouterr().err
    assert docs.main(["--write", "--readme", str(readme)]) == 0
    assert docs.main(["--check", "--readme", str(readme)]) == 0
    assert "`TELLI_API_KEY`" in readme.read_text()
