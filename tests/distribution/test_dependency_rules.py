"""The layers call only downward: checked on every import statement of the package, lazy ones inside functions too.

* `telli_mcp.client` imports nothing of telli_mcp except `telli_mcp._version` and the leaf modules.
* `telli_mcp.campaigns` imports only `telli_mcp.client`, `telli_mcp.database` (its ledger's SQL session) and the
  leaf modules.
* `telli_mcp.webhooks` (verify, store and fan out telli's events) imports only `telli_mcp.client`,
  `telli_mcp.database` and the leaf modules, and never `mcp`: the simulator signs with it and the server reads its
  store.
* `telli_mcp.do_not_call` (the do-not-call list) imports only `telli_mcp.client`, `telli_mcp.database` and the leaf
  modules, and never `mcp`: the MCP tools, the `telli-mcp dnc` command and, through its protocol, the campaign
  engine use it.
* `telli_mcp.contact_index` (the copy of each account's contacts that find_contacts searches) imports only
  `telli_mcp.client`, `telli_mcp.database` (its SQL session) and the leaf modules, and never `mcp`: the MCP tools
  and the bulk tools' selections use it.
* `telli_mcp.database` (the stores replicas share: PostgreSQL, its migrations, the spent confirmation tokens, and
  the SQL session the ledger, the do-not-call list and the event store speak over SQLite or PostgreSQL) imports
  only the leaf modules and `psycopg`, never `mcp` and not even the client: the backend chooses its stores, the
  server's token signer spends into them.
* The leaf modules `telli_mcp.text`, `telli_mcp.bounded`, `telli_mcp.zones`, `telli_mcp.urls`, `telli_mcp.lazy`,
  `telli_mcp.local_db` and `telli_mcp.together` import nothing of telli_mcp; that is what lets the client, the
  campaigns, the stores and the settings share them (one text cleaner, one clip, one time-zone check, one way to
  show a URL, one way to export names that load on first use, one way to open a local database, one way to send
  independent reads at once) without depending on anything above them.
* `telli_mcp.server` never imports `httpx2` (it never talks HTTP itself) or `telli_mcp.simulator`.
* The entry points (`cli`, `serve`, `doctor`, `campaign_cli`, `docs`) reach `telli_mcp.server` only through its
  front door, `from telli_mcp.server import ...`: the server factory `build_server`, its HTTP deployment
  `http_app`, and `offer_for` (with its type `Offer`), what a server with given settings would offer, as data (the
  docs generator renders it from the toolsets' own declarations, `SURFACES`), and the generated tool schemas and
  toolset declarations (`SCHEMAS_FILE`, `catalogue_text`, `DECLARATIONS_FILE`, `declarations_text`: the docs
  generator writes them), never a module inside it. What the CLI needs besides a server (a key fingerprint,
  the toolset list, the ledger) lives below the MCP layer.

And the commands that need no MCP server do not load `mcp` at all (`python -X importtime` shows every import).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from process_helpers import clean_env, imported_modules, within

import telli_mcp

PACKAGE = Path(telli_mcp.__file__).resolve().parent
LEAVES = frozenset(
    {
        "telli_mcp.text",
        "telli_mcp.bounded",
        "telli_mcp.zones",
        "telli_mcp.urls",
        "telli_mcp.lazy",
        "telli_mcp.local_db",
        "telli_mcp.together",
    }
)
FRONT_DOOR = frozenset(
    {
        "build_server",
        "http_app",
        "offer_for",
        "Offer",
        "SURFACES",
        "SCHEMAS_FILE",
        "catalogue_text",
        "DECLARATIONS_FILE",
        "declarations_text",
    }
)
ENTRY_POINTS = ("cli.py", "serve.py", "doctor", "campaign_cli.py", "docs.py")


@dataclass(frozen=True)
class Import:
    file: str
    """Relative to the package directory."""
    line: int
    module: str
    """The imported module, absolute (`from x import y` gives `x`, and `x.y` when `y` is a module of `x`)."""
    names: tuple[str, ...] = ()
    """For `from x import a, b`: the names."""

    def __str__(self) -> str:
        return f"{self.file}:{self.line} imports {self.module}" + (f" ({', '.join(self.names)})" if self.names else "")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    return (PACKAGE.parent / relative).with_suffix(".py").is_file() or (PACKAGE.parent / relative).is_dir()


def _imports_of(path: Path) -> Iterator[Import]:
    file = str(path.relative_to(PACKAGE))
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):  # every statement, at any depth
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(file, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(path, node)
            names = tuple(alias.name for alias in node.names)
            yield Import(file, node.lineno, module, names)
            for name in names:
                if _is_module(f"{module}.{name}"):
                    yield Import(file, node.lineno, f"{module}.{name}")


def _imports(*where: str) -> list[Import]:
    paths: list[Path] = []
    for part in where:
        target = PACKAGE / part
        paths += sorted(target.rglob("*.py")) if target.is_dir() else [target]
    return [found for path in paths for found in _imports_of(path)]


def _internal(found: Import) -> bool:
    return within(found.module, "telli_mcp")


def test_the_import_scanner_sees_lazy_and_relative_imports() -> None:
    # The rules below are only as good as the scanner: it must see an import inside a function body and
    # resolve the simulator's relative imports.
    serve = {found.module for found in _imports("serve.py")}
    simulator = {found.module for found in _imports("simulator/__init__.py")}
    assert "telli_mcp.server" in serve  # imported inside run_server only
    assert "telli_mcp.simulator.app" in simulator  # `from .app import ...`


def test_the_client_imports_nothing_internal_but_the_version_and_the_leaves() -> None:
    allowed = ("telli_mcp.client", "telli_mcp._version", *LEAVES)
    offenders = [str(f) for f in _imports("client") if _internal(f) and not within(f.module, *allowed)]
    assert offenders == []


def test_the_campaigns_import_only_the_client_and_the_leaves() -> None:
    allowed = ("telli_mcp.campaigns", "telli_mcp.client", "telli_mcp.database", *LEAVES)
    offenders = [str(f) for f in _imports("campaigns") if _internal(f) and not within(f.module, *allowed)]
    assert offenders == []


def test_the_webhooks_import_only_the_client_and_the_leaves_and_never_mcp() -> None:
    allowed = ("telli_mcp.webhooks", "telli_mcp.client", "telli_mcp.database", *LEAVES)
    found = list(_imports("webhooks"))
    assert [str(f) for f in found if _internal(f) and not within(f.module, *allowed)] == []
    assert [str(f) for f in found if within(f.module, "mcp")] == []


def test_the_do_not_call_list_imports_only_the_client_and_the_leaves_and_never_mcp() -> None:
    allowed = ("telli_mcp.do_not_call", "telli_mcp.client", "telli_mcp.database", *LEAVES)
    found = list(_imports("do_not_call"))
    assert [str(f) for f in found if _internal(f) and not within(f.module, *allowed)] == []
    assert [str(f) for f in found if within(f.module, "mcp")] == []


def test_the_contact_index_imports_only_the_client_and_the_leaves_and_never_mcp() -> None:
    allowed = ("telli_mcp.contact_index", "telli_mcp.client", "telli_mcp.database", *LEAVES)
    found = list(_imports("contact_index"))
    assert [str(f) for f in found if _internal(f) and not within(f.module, *allowed)] == []
    assert [str(f) for f in found if within(f.module, "mcp")] == []


def test_the_database_imports_only_the_leaves_psycopg_and_anyio_and_never_mcp() -> None:
    allowed = ("telli_mcp.database", *LEAVES)
    found = list(_imports("database"))
    assert [str(f) for f in found if _internal(f) and not within(f.module, *allowed)] == []
    third_party = {f.module.split(".")[0] for f in found if not _internal(f)} - set(sys.stdlib_module_names)
    # anyio: the pool's bound on a statement the server leaves unanswered (database/postgres.py says why not asyncio's).
    assert third_party <= {"anyio", "psycopg", "psycopg_pool", "pydantic"}, sorted(third_party)


def test_the_leaves_import_nothing_internal() -> None:
    leaves = [f"{leaf.removeprefix('telli_mcp.')}.py" for leaf in sorted(LEAVES)]
    assert [str(f) for f in _imports(*leaves) if _internal(f)] == []


def test_the_server_never_talks_http_or_reaches_the_simulator() -> None:
    offenders = [str(f) for f in _imports("server") if within(f.module, "httpx2", "httpx", "telli_mcp.simulator")]
    assert offenders == []


def test_the_entry_points_reach_the_server_only_through_its_front_door() -> None:
    offenders = [
        str(found)
        for found in _imports(*ENTRY_POINTS)
        if within(found.module, "telli_mcp.server")
        and not (found.module == "telli_mcp.server" and found.names and set(found.names) <= FRONT_DOOR)
    ]
    assert offenders == []


def _imported_modules(tmp_path: Path, *args: str) -> set[str]:
    """Every module `python -X importtime -m telli_mcp <args>` imports (the log is on stderr)."""
    env = clean_env(TELLI_MCP_DATA_DIR=str(tmp_path / "data"))
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "telli_mcp", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return imported_modules(result.stderr)


@pytest.mark.parametrize("args", [("doctor", "--sandbox"), ("campaign", "--help"), ("dnc", "--sandbox", "list")])
def test_commands_that_serve_no_mcp_client_do_not_load_mcp(tmp_path: Path, args: tuple[str, ...]) -> None:
    modules = _imported_modules(tmp_path, *args)
    assert "telli_mcp.cli" in modules, "the import log was not read"
    loaded = sorted(
        name for name in modules if name.split(".")[0] in ("mcp", "mcp_types") or within(name, "telli_mcp.server")
    )
    assert loaded == [], f"telli-mcp {' '.join(args)} loads {loaded[:10]}"
