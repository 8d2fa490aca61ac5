"""Serve MCP over stdin/stdout without worker threads, when both are pipes or sockets (POSIX).

The SDK's `stdio_server()` reads and writes the standard streams through anyio worker threads: three thread
hand-offs per request (read the line, write the answer, flush it), about 0.8 ms of a `get_contact` call. Here
asyncio's own pipe transports read and write the descriptors from the event loop instead, with what the SDK
guarantees kept:

* while serving, fd 0 reads EOF and fd 1 writes to stderr, so a handler's or a child process's stray print
  cannot corrupt the wire; the wire is served from private duplicates and put back on fd 0 and 1 on exit;
* input is UTF-8 with undecodable bytes replaced; one JSON-RPC message per line, of any length; a line that is
  not a JSON-RPC message is handed to the server as the exception it raised, as the SDK does;
* the end of stdin ends the server cleanly, once every answer has been written;
* writes never block the loop: a client that reads slowly applies back-pressure (the writer awaits `drain`).

Anything else (a regular file, a terminal, Windows, one socket for both directions) is served by the SDK's
`stdio_server()` unchanged, through `MCPServer.run("stdio")`.
"""

from __future__ import annotations

import asyncio
import io
import os
import stat
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import anyio
import anyio.lowlevel
import mcp_types
from mcp.shared._context_streams import ContextReceiveStream, ContextSendStream, create_context_streams
from mcp.shared.message import SessionMessage

if sys.platform != "win32":
    import fcntl

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

ReadStream: TypeAlias = ContextReceiveStream[SessionMessage | Exception]
WriteStream: TypeAlias = ContextSendStream[SessionMessage]

__all__ = ["pipe_streams", "serve_stdio", "wire_is_pipes"]

STDIN, STDOUT, STDERR = 0, 1, 2


def serve_stdio(server: MCPServer[Any]) -> None:
    """Serve `server` over this process's stdin and stdout until stdin ends."""
    if not wire_is_pipes():
        server.run("stdio")
        return
    anyio.run(partial(_serve, server), backend="asyncio")


def wire_is_pipes() -> bool:
    """Whether stdin and stdout are two different pipes or sockets, which asyncio can serve without threads.

    One socket for both directions is left to the SDK: asyncio's write-pipe transport takes a readable
    descriptor for the peer closing it, which on a shared socket is every incoming message.
    """
    if sys.platform == "win32":
        return False
    try:
        stdin, stdout = os.fstat(STDIN), os.fstat(STDOUT)
    except OSError:
        return False
    return (
        _is_pipe_or_socket(stdin.st_mode) and _is_pipe_or_socket(stdout.st_mode) and not os.path.samestat(stdin, stdout)
    )


def _is_pipe_or_socket(mode: int) -> bool:
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


async def _serve(server: MCPServer[Any]) -> None:
    # What `MCPServer.run_stdio_async` does, with our streams; MCPServer offers no public way to run its
    # low-level server on given streams (tests/distribution/test_stdio_pipes.py notices if that method changes).
    lowlevel = server._lowlevel_server
    async with pipe_streams() as (read_stream, write_stream):
        await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())


@asynccontextmanager
async def pipe_streams() -> AsyncIterator[tuple[ReadStream, WriteStream]]:
    """The server's read and write streams over fd 0 and fd 1, as the SDK's `stdio_server()` yields them."""
    loop = asyncio.get_running_loop()
    with _claimed(STDIN, _stdin_diversion) as wire_in, _claimed(STDOUT, _stdout_diversion) as wire_out:
        reader = asyncio.StreamReader()
        read_transport, _ = await loop.connect_read_pipe(
            partial(asyncio.StreamReaderProtocol, reader), _private_file(wire_in, "rb")
        )
        write_transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, _private_file(wire_out, "wb")
        )
        writer = asyncio.StreamWriter(write_transport, protocol, None, loop)
        read_stream_writer, read_stream = create_context_streams[SessionMessage | Exception](0)
        write_stream, write_stream_reader = create_context_streams[SessionMessage](0)
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(_read, reader, read_stream_writer)
                tasks.start_soon(_write, write_stream_reader, writer)
                yield read_stream, write_stream
        finally:
            read_transport.close()
            write_transport.close()


async def _read(reader: asyncio.StreamReader, messages: ContextSendStream[SessionMessage | Exception]) -> None:
    try:
        async with messages:
            async for line in _lines(reader):
                try:
                    message = mcp_types.jsonrpc_message_adapter.validate_json(
                        line.decode("utf-8", errors="replace"), by_name=False
                    )
                except Exception as exc:  # the server answers a malformed line; the SDK hands it on the same way
                    await messages.send(exc)
                    continue
                await messages.send(SessionMessage(message))
    except anyio.ClosedResourceError:  # the server stopped reading
        await anyio.lowlevel.checkpoint()


async def _write(messages: ContextReceiveStream[SessionMessage], writer: asyncio.StreamWriter) -> None:
    try:
        async with messages:
            async for session_message in messages:
                json = session_message.message.model_dump_json(by_alias=True, exclude_unset=True)
                writer.write(json.encode() + b"\n")
                await writer.drain()
    except anyio.ClosedResourceError:  # the server closed its end
        await anyio.lowlevel.checkpoint()


async def _lines(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    """Each line of `reader` with its newline, however long (the last one also without a newline).

    The reader's limit (64 KiB) bounds what it buffers ahead, not the length of a line: a longer line is
    collected in pieces.
    """
    pieces: list[bytes] = []
    while True:
        try:
            pieces.append(await reader.readuntil(b"\n"))
        except asyncio.LimitOverrunError as overrun:
            pieces.append(await reader.readexactly(overrun.consumed))
            continue
        except asyncio.IncompleteReadError as end:
            if pieces or end.partial:
                yield b"".join(pieces) + end.partial
            return
        yield b"".join(pieces)
        pieces = []


@contextmanager
def _claimed(fd: int, open_diversion: Callable[[], int]) -> Iterator[int]:
    """Take the wire off `fd` while serving: yield a private duplicate of it and point `fd` at the diversion;
    on exit put the wire back on `fd`, blocking again if it was (the transports make it non-blocking, and
    the flag belongs to the open pipe, which `fd` shares)."""
    wire = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, STDERR + 1)  # never lands on 0-2, never leaks to children
    blocking = os.get_blocking(wire)
    try:
        diversion = open_diversion()
        try:
            os.dup2(diversion, fd)
        finally:
            os.close(diversion)
        try:
            yield wire
        finally:
            os.dup2(wire, fd)
    finally:
        os.set_blocking(wire, blocking)
        os.close(wire)


def _private_file(wire: int, mode: Literal["rb", "wb"]) -> io.FileIO:
    """An unbuffered file on a new duplicate of `wire`, for a transport to own and close."""
    return io.FileIO(fcntl.fcntl(wire, fcntl.F_DUPFD_CLOEXEC, STDERR + 1), mode)


def _stdin_diversion() -> int:
    return os.open(os.devnull, os.O_RDONLY)


def _stdout_diversion() -> int:
    try:
        return os.dup(STDERR)
    except OSError:  # no stderr: stray output is dropped
        return os.open(os.devnull, os.O_WRONLY)
