"""A server lists its toolsets from their build-time declarations, and loads a toolset's module on first use.

`telli_mcp/server/declarations.json` holds what every toolset declares (`telli_mcp.server.declarations`). These
tests hold the file to the code, and check that a listing that no longer matches its module can never run: a tool
listed as read-only that in fact erases is refused on its first call, before anything is sent to telli.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp_helpers import connect
from server_helpers import ServerFactory, contact_id_of, fails, ok, writes

from telli_mcp.docs import WRITE_COMMAND
from telli_mcp.server import declarations
from telli_mcp.server.declarations import (
    DECLARATIONS_FILE,
    ListedPrompt,
    ListedResource,
    ListedTool,
    StaleDeclarationsError,
    declarations_text,
    listed_surfaces,
)
from telli_mcp.server.tools import SURFACES, TOOLSET_MODULES
from telli_mcp.simulator import TelliSimulator


def test_the_shipped_declarations_are_the_code_now() -> None:
    text = DECLARATIONS_FILE.read_text(encoding="utf-8")
    assert text == declarations_text(), f"declarations.json is stale: run `{WRITE_COMMAND}` and commit it"


def test_the_listed_surfaces_are_the_declared_ones_entry_by_entry() -> None:
    listed = listed_surfaces()
    assert [s.toolset for s in listed] == [s.toolset for s in SURFACES]
    for module, declared, read in zip(TOOLSET_MODULES, SURFACES, listed, strict=True):
        assert read.tools == tuple(ListedTool.of(t, module) for t in declared.tools)
        assert read.resources == tuple(ListedResource.of(r, module) for r in declared.resources)
        assert read.prompts == tuple(ListedPrompt.of(p, module) for p in declared.prompts)
        assert read.instructions == declared.instructions
        # Loading gives the very declaration, handler and all.
        assert [t.load() for t in read.tools] == list(declared.tools)


def _stale_copy(tmp_path: Path, tool: str, **changes: object) -> Path:
    """The file with `tool` listed otherwise: `description`, or any field of its spec."""
    data = json.loads(DECLARATIONS_FILE.read_text(encoding="utf-8"))
    entry = next(t for s in data["surfaces"] for t in s["tools"] if t["spec"]["name"] == tool)
    for field, value in changes.items():
        (entry if field == "description" else entry["spec"])[field] = value
    stale = tmp_path / "declarations.json"
    stale.write_text(json.dumps(data), encoding="utf-8")
    return stale


@pytest.fixture
def stale_delete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A declarations file that lists delete_contact as a read (as an old or tampered installation might)."""
    monkeypatch.setattr(declarations, "DECLARATIONS_FILE", _stale_copy(tmp_path, "delete_contact", risk="read"))
    listed_surfaces.cache_clear()
    yield
    listed_surfaces.cache_clear()


@pytest.mark.anyio
@pytest.mark.usefixtures("stale_delete")
async def test_a_tool_listed_unlike_its_declaration_is_refused_before_anything_is_sent(
    make_server: ServerFactory, sim: TelliSimulator, mode: str
) -> None:
    async with connect(make_server(confirm="off"), mode) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
        assert listed["delete_contact"].annotations is not None
        assert listed["delete_contact"].annotations.read_only_hint  # what the stale file claims
        contact_id = await contact_id_of(client, "crm-123")
        error = await fails(client, "delete_contact", {"contact_id": contact_id})
        still_there = await ok(client, "get_contact", {"contact_id": contact_id})
    assert "declarations.json is stale" in error and "delete_contact" in error
    assert writes(sim) == [] and still_there["contact_id"] == contact_id


@pytest.mark.parametrize("changes", [{"risk": "write"}, {"dials": True, "risk": "destructive"}, {"description": "x"}])
def test_any_difference_from_the_declaration_makes_loading_refuse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, changes: dict[str, object]
) -> None:
    monkeypatch.setattr(declarations, "DECLARATIONS_FILE", _stale_copy(tmp_path, "get_contact", **changes))
    listed_surfaces.cache_clear()
    try:
        tool = next(t for s in listed_surfaces() for t in s.tools if t.name == "get_contact")
        with pytest.raises(StaleDeclarationsError, match="get_contact"):
            tool.load()
    finally:
        listed_surfaces.cache_clear()
