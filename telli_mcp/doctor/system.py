"""Checks of the machine: Python version, the installed package, the data directory."""

from __future__ import annotations

import os
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from telli_mcp._version import __version__
from telli_mcp.doctor.results import Check, Status

__all__ = ["MIN_PYTHON", "check_data_dir", "check_package", "check_python"]

MIN_PYTHON = (3, 11)


def check_python(version: tuple[int, ...] | None = None) -> Check:
    version = sys.version_info[:3] if version is None else version
    shown = ".".join(str(part) for part in version[:3])
    if tuple(version[:2]) < MIN_PYTHON:
        needed = ".".join(str(part) for part in MIN_PYTHON)
        return Check(name="Python", status=Status.FAIL, detail=f"{shown} is too old: telli-mcp needs {needed}+")
    return Check(name="Python", status=Status.PASS, detail=f"{shown} ({sys.executable})")


def check_package() -> Check:
    location = Path(__file__).resolve().parent.parent
    try:
        installed = metadata.version("telli-mcp")
    except metadata.PackageNotFoundError:
        installed = None
    # An editable install whose metadata lags behind the source is the usual cause of "my fix does not work".
    if installed is not None and installed != __version__:
        return Check(
            name="telli-mcp",
            status=Status.WARN,
            detail=f"code is {__version__} but the installed metadata says {installed}: reinstall",
        )
    return Check(name="telli-mcp", status=Status.PASS, detail=f"{__version__} ({location})")


def _probe(directory: Path) -> None:
    handle, name = tempfile.mkstemp(prefix=".telli-mcp-doctor-", dir=directory)
    try:
        os.write(handle, b"probe")
    finally:
        os.close(handle)
        os.unlink(name)


def check_data_dir(directory: Path) -> Check:
    """Create `directory` if missing, then write and delete a probe file in it."""
    existed = directory.is_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _probe(directory)
    except OSError as err:
        reason = err.strerror or type(err).__name__
        return Check(
            name="data dir",
            status=Status.FAIL,
            detail=f"{directory} is not writable ({reason}); set TELLI_MCP_DATA_DIR to a writable directory",
        )
    created = "" if existed else ", created"
    return Check(name="data dir", status=Status.PASS, detail=f"{directory} (writable{created})")
