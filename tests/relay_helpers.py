"""A loopback TCP relay between a client and a server that can stop passing bytes on: a server that stopped.

While `frozen`, the relay's sockets keep accepting what the client sends (its kernel acknowledges every byte, as a
stopped server's machine does) and nothing comes back, so no TCP-level bound fires on the client's side; the
server itself sees an idle client. Threads, not an event loop: the client under test may block its own loop.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from urllib.parse import urlsplit, urlunsplit

__all__ = ["Relay", "relayed"]

_CHUNK = 65536


class Relay:
    """Accepts on a free loopback port and relays each connection to `target` (host, port)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._flowing = threading.Event()
        self._flowing.set()
        self._sockets: list[socket.socket] = []
        self._closed = False
        self._refusing = False
        self.attempts = 0
        """Connections clients opened to the relay, refused ones included."""
        threading.Thread(target=self._accept, daemon=True).start()

    def freeze(self) -> None:
        """Stop passing bytes on, in both directions, on every connection (the server stopped)."""
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    def refuse(self) -> None:
        """The server is down: every connection is ended, and every new one is closed as soon as it arrives."""
        self._refusing = True
        for sock in self._sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def accept(self) -> None:
        """The server is back: new connections are relayed again."""
        self._refusing = False

    def close(self) -> None:
        self._closed = True
        self._flowing.set()
        for sock in [self._listener, *self._sockets]:
            with suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._closed:  # accepted while closing: the server is gone, so is this connection
                client.close()
                return
            self.attempts += 1
            if self._refusing:
                client.close()
                continue
            server = socket.create_connection(self._target)
            self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        while True:
            self._flowing.wait()
            try:
                data = source.recv(_CHUNK)
                self._flowing.wait()  # bytes read just before a freeze are held back with the rest
                if not data:
                    sink.shutdown(socket.SHUT_WR)
                    return
                sink.sendall(data)
            except OSError:
                return


@contextmanager
def relayed(url: str) -> Iterator[tuple[str, Relay]]:
    """`url` (a postgresql:// URL) rewritten to go through a `Relay` to its host and port, and the relay."""
    parts = urlsplit(url)
    relay = Relay((parts.hostname or "127.0.0.1", parts.port or 5432))
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@127.0.0.1:{relay.port}" if credentials else f"127.0.0.1:{relay.port}"
    try:
        yield urlunsplit(parts._replace(netloc=netloc)), relay
    finally:
        relay.close()
