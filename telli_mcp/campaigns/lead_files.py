"""Which lead files may be read, and reading one without trusting its path.

Over MCP the path comes from a model, so it is untrusted: `/proc/self/environ` would put the API key into
validation errors, `/dev/zero` or a 3 GB file exhausts memory, and a FIFO blocks its reader forever. So a lead
file must be, after symlinks are resolved:

* under an allowed root (`TELLI_MCP_LEADS_DIR`; default the home directory and the working directory) and
  never under /proc, /sys or /dev, whatever the roots say;
* named like a lead file (.csv, .tsv, .txt, .json), so `.env`, `id_rsa` or `credentials` are never parsed;
* a regular file of at most `MAX_FILE_BYTES`, checked on the open descriptor before a byte is read.

It is read in a worker thread under `READ_DEADLINE_SECONDS`, so a slow disk never stalls the event loop.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import anyio
import anyio.to_thread

from telli_mcp.campaigns.errors import LeadSourceError

__all__ = [
    "MAX_FILE_BYTES",
    "READ_DEADLINE_SECONDS",
    "LeadFile",
    "allowed_roots",
    "check_path",
    "read_bytes",
    "read_lead_file",
    "shown_path",
]

MAX_FILE_BYTES = 20 * 1024 * 1024
"""20 MB holds ~100,000 leads of 200 bytes, ten times what a campaign takes inline; parsing needs roughly ten
times the file size in memory, so this keeps a plan to a few hundred MB."""
READ_DEADLINE_SECONDS = 10.0
"""A local file of 20 MB reads in well under a second; longer means a stalled network mount."""
SUFFIXES = (".csv", ".tsv", ".txt", ".json")
SYSTEM_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))
_PATH_SHOWN = 120
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class LeadFile:
    """A lead file that passed every check: its resolved path and its bytes."""

    path: Path
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def allowed_roots(leads_dir: str | None) -> tuple[Path, ...]:
    """The folders of `TELLI_MCP_LEADS_DIR` (separated like PATH) when set, else the home and working directories.

    A desktop app often starts a stdio server in `/`, which as a default root would allow every file; so `/`
    is only a root when set explicitly.
    """
    if leads_dir:
        return tuple(Path(part).expanduser().resolve() for part in leads_dir.split(os.pathsep) if part.strip())
    defaults = (Path.home().resolve(), Path.cwd().resolve())
    return tuple(dict.fromkeys(root for root in defaults if root != Path("/")))


def shown_path(path: Path | str) -> str:
    """The path as given, quoted, control characters removed and truncated (it is echoed in errors)."""
    text = "".join(char if char.isprintable() else "?" for char in str(path))
    return repr(text if len(text) <= _PATH_SHOWN else text[: _PATH_SHOWN - 1] + "…")


def check_path(path: Path, roots: Sequence[Path]) -> Path:
    """The resolved path of `path` when it may be read as a lead file.

    Raises:
        LeadSourceError: missing, a system file, outside `roots`, or not named like a lead file.
    """
    resolved = _resolve(path)
    if not any(resolved.is_relative_to(root) for root in roots):
        folders = ", ".join(str(root) for root in roots) or "none"
        raise LeadSourceError(
            f"leads_file {shown_path(path)} is outside the folders lead files are read from ({folders}); "
            "move it there or set TELLI_MCP_LEADS_DIR."
        )
    if resolved.suffix.lower() not in SUFFIXES:
        raise LeadSourceError(f"leads_file {shown_path(path)} must be a {', '.join(SUFFIXES)} file.")
    return resolved


def read_bytes(path: Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most `max_bytes` outside /proc, /sys and /dev (blocking: use a thread).

    The checks run on the open descriptor, so a file swapped for a symlink, FIFO or device after `check_path`
    is refused too; O_NONBLOCK makes opening a FIFO return at once instead of waiting for a writer.
    """
    resolved = _resolve(path)
    try:
        with open(os.open(resolved, _OPEN_FLAGS), "rb") as handle:
            _check_descriptor(path, os.fstat(handle.fileno()), max_bytes)
            data = handle.read(max_bytes + 1)
    except OSError as err:
        raise LeadSourceError(f"leads_file {shown_path(path)} cannot be read ({err.strerror}).") from None
    if len(data) > max_bytes:  # a file that grew after the size check
        raise _too_large(path, max_bytes)
    return data


async def read_lead_file(
    path: Path,
    roots: Sequence[Path] | None = None,
    *,
    max_bytes: int = MAX_FILE_BYTES,
    deadline: float = READ_DEADLINE_SECONDS,
) -> LeadFile:
    """Check `path` against `roots` (None: no allow-list, for library callers) and read it off the event loop.

    Raises:
        LeadSourceError: any check fails, or the read takes longer than `deadline` seconds.
    """
    resolved = check_path(path, roots) if roots is not None else path
    try:
        with anyio.fail_after(deadline):
            # abandon_on_cancel: a read stuck in the kernel cannot be interrupted; the caller gets its answer.
            data = await anyio.to_thread.run_sync(read_bytes, resolved, max_bytes, abandon_on_cancel=True)
    except TimeoutError:
        raise LeadSourceError(f"leads_file {shown_path(path)} took longer than {deadline:g} s to read.") from None
    return LeadFile(path=resolved, data=data)


def _resolve(path: Path) -> Path:
    try:
        resolved = path.expanduser().resolve(strict=True)
    except FileNotFoundError:
        raise LeadSourceError(f"leads_file {shown_path(path)} does not exist.") from None
    except (OSError, RuntimeError):
        raise LeadSourceError(f"leads_file {shown_path(path)} cannot be opened.") from None
    if any(resolved.is_relative_to(root) for root in SYSTEM_ROOTS):
        raise LeadSourceError(f"leads_file {shown_path(path)} is a system file (/proc, /sys, /dev), not leads.")
    return resolved


def _check_descriptor(path: Path, info: os.stat_result, max_bytes: int) -> None:
    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise LeadSourceError(f"leads_file {shown_path(path)} is {kind}; give a CSV or JSON file.")
    if info.st_dev in _system_devices():
        raise LeadSourceError(f"leads_file {shown_path(path)} is a system file (/proc, /sys, /dev), not leads.")
    if info.st_size > max_bytes:
        raise _too_large(path, max_bytes)


def _too_large(path: Path, max_bytes: int) -> LeadSourceError:
    return LeadSourceError(f"leads_file {shown_path(path)} is larger than {max_bytes // (1024 * 1024)} MB.")


@cache
def _system_devices() -> frozenset[int]:
    """Devices of the pseudo file systems (procfs, sysfs, devtmpfs), where files say "regular" and lie about size.

    A root that is no separate mount shares the root file system's device and is left out, or every file
    would be refused.
    """
    root_device = os.stat("/").st_dev
    devices = set()
    for root in SYSTEM_ROOTS:
        try:
            devices.add(os.stat(root).st_dev)
        except OSError:
            continue
    return frozenset(devices - {root_device})
