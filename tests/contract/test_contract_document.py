"""The contract document itself: complete, consistent with the simulator's routes, independent of the client."""

from __future__ import annotations

import ast
import io
from contextlib import redirect_stdout
from pathlib import Path

from starlette.routing import Route

from telli_mcp.contract import load_contract
from telli_mcp.contract.__main__ import main as contract_cli
from telli_mcp.simulator import TelliSimulator

PACKAGE = Path(__file__).resolve().parents[2] / "telli_mcp"


def simulator_routes() -> set[tuple[str, str]]:
    app = TelliSimulator().app.app  # type: ignore[attr-defined]
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        if isinstance(route, Route) and not route.path.startswith("/_sim/"):
            found |= {(method, route.path) for method in route.methods or () if method != "HEAD"}
    return found


def shape(path: str) -> str:
    """A path template with its parameter names and converters erased: `/v1/get-contact/{}`."""
    parts = [("{}" if part.startswith("{") else part) for part in path.split("/")]
    return "/".join(parts)


def test_the_contract_documents_all_33_endpoints_once() -> None:
    operations = load_contract().operations
    assert len(operations) == 33
    assert len({op.operation_id for op in operations}) == 33
    assert len({(op.method, op.path) for op in operations}) == 33


def test_every_simulator_route_is_a_documented_operation_and_back() -> None:
    documented = {(op.method, shape(op.path)) for op in load_contract().operations}
    served = {(method, shape(path)) for method, path in simulator_routes()}
    assert served == documented


def test_every_operation_documents_a_success_answer() -> None:
    for op in load_contract().operations:
        assert any(200 <= status < 300 for status in op.responses), op.operation_id


def test_guesses_are_listed_with_where_and_why() -> None:
    guesses = load_contract().guesses()
    assert len(guesses) >= 30
    assert all(guess.note.strip() and guess.where.startswith("/") for guess in guesses)
    output = io.StringIO()
    with redirect_stdout(output):
        assert contract_cli(["--guesses"]) == 0
    assert output.getvalue().count("\n    ") == len(guesses)
    assert "/paths/~1v1~1initiate-call/post/responses/200" in output.getvalue()


def test_only_reads_are_marked_read_only() -> None:
    read_only = {op.operation_id for op in load_contract().operations if op.read_only}
    assert "get-contacts-batch" in read_only
    assert all(op.method == "GET" or op.operation_id == "get-contacts-batch" for op in load_contract().operations
               if op.operation_id in read_only)  # fmt: skip
    assert not {"schedule-call", "initiate-call", "delete-contact", "add-contacts-batch"} & read_only


def test_the_client_never_imports_the_contract() -> None:
    for source in (PACKAGE / "client").rglob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            assert not any("contract" in name for name in names), f"{source} imports {names}"
