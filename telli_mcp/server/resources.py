"""What every resource handler shares: JSON bodies, id checks and telli failures as resource errors.

Each toolset declares its own resources in its module (`telli_mcp/server/tools/<toolset>.py`, see `surface`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from pydantic import BaseModel

from telli_mcp.client import NotFoundError, TelliError

__all__ = ["as_json", "checked_id", "reading"]


def as_json(model: BaseModel) -> str:
    return model.model_dump_json(indent=2, exclude_none=True)


def checked_id(check: Callable[[str], str], value: str, uri: str) -> str:
    """`value` as `check` accepts it, or ResourceNotFoundError naming the URI (a malformed id names nothing)."""
    try:
        return check(value)
    except ValueError as err:
        raise ResourceNotFoundError(f"{uri}: {err}") from None


@contextmanager
def reading(not_found: str) -> Iterator[None]:
    """Reads from telli: a 404 becomes ResourceNotFoundError(`not_found`), any other failure a ResourceError that
    names only its kind (resource errors reach the client as JSON-RPC errors, never with telli's text)."""
    try:
        yield
    except NotFoundError:
        raise ResourceNotFoundError(not_found) from None
    except TelliError as err:
        raise ResourceError(f"telli request failed: {type(err).__name__}") from None
