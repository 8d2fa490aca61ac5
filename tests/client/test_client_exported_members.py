"""The public surface of `telli_mcp.client` is exactly what `__all__` lists."""

from __future__ import annotations

import telli_mcp.client as client_package


def test_every_name_in_all_is_importable_from_the_package() -> None:
    missing = [name for name in client_package.__all__ if not hasattr(client_package, name)]
    assert missing == []


def test_the_public_surface_includes_the_client_every_error_and_the_batch_types() -> None:
    expected = {
        "TelliClient",
        "TelliError",
        "TelliAPIError",
        "TelliConnectionError",
        "TelliTimeoutError",
        "ResponseDecodeError",
        "PaginationError",
        "MissingAPIKeyError",
        "InputError",
        "BatchReport",
        "BatchItemResult",
        "ContactBatchResult",
        "ChunkCallback",
        "Page",
        "normalize_e164",
    }
    assert expected <= set(client_package.__all__)


def test_the_client_layer_does_not_import_mcp_or_the_simulator() -> None:
    import pathlib

    sources = pathlib.Path(client_package.__file__).parent.rglob("*.py")
    offenders = [
        str(path)
        for path in sources
        for line in path.read_text().splitlines()
        if line.startswith(("import mcp", "from mcp", "from telli_mcp.simulator", "from telli_mcp.server"))
    ]
    assert offenders == []
