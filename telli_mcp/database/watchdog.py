"""A bound on a synchronous connection's wait that holds even when the database server stops answering altogether.

The server's own bounds (`statement_timeout`, `lock_timeout`) are enforced by the server, and TCP's
(`tcp_user_timeout`, keepalives) by the kernels. A server process that stopped (SIGSTOP, a storage hang that
leaves it stuck in I/O) trips none of them: its machine's kernel still acknowledges every byte and every
keepalive, and nothing is left to run the statement's timer. A synchronous psycopg wait on such a connection never
ends, and with it the event loop that made it. (Measured: a stopped PostgreSQL held a `SELECT` for as long as it
was stopped, 40 s in the test.)

`Watchdog` is the bound on this side: one thread per session, armed for each exchange with the server. When an
exchange outlasts its bound, the thread shuts the connection's socket down; the wait then ends at once with an
error, and the session reports the database unavailable and connects afresh next time. One thread that sleeps
on a condition, not a timer per statement: arming and disarming cost a lock, not a thread start.
"""

from __future__ import annotations

import os
import socket
import threading
import time

__all__ = ["Watchdog"]


class Watchdog:
    """Shuts down the socket of an exchange that outlasts its bound (see the module docstring)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._changed = threading.Condition()
        self._socket: int | None = None
        self._deadline: float | None = None
        self._thread: threading.Thread | None = None
        self._generation = 0
        """Which thread is the current one: `stop` moves it on, and the thread it started with ends."""
        self.fired = False
        """Whether the last armed exchange was cut off."""

    def arm(self, socket_fd: int, seconds: float) -> None:
        """Watch the exchange on `socket_fd` that starts now; `disarm` when it ended."""
        with self._changed:
            self._socket, self._deadline, self.fired = socket_fd, time.monotonic() + seconds, False
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch, args=(self._generation,), name=self._name, daemon=True
                )
                self._thread.start()
            self._changed.notify()

    def disarm(self) -> None:
        """The exchange ended: from here on its socket may be closed, and its descriptor reused, safely."""
        with self._changed:
            self._socket = self._deadline = None

    def stop(self) -> None:
        """End the thread (the session is closed; if it is used again, the next `arm` starts another)."""
        with self._changed:
            self._generation += 1
            self._thread = None
            self._socket = self._deadline = None
            self._changed.notify()

    def _watch(self, generation: int) -> None:
        with self._changed:
            while self._generation == generation:
                if self._deadline is None:
                    self._changed.wait()
                    continue
                remaining = self._deadline - time.monotonic()
                if remaining > 0:
                    self._changed.wait(remaining)
                    continue
                # Under the lock: `disarm` cannot return (and the descriptor be closed and reused) meanwhile.
                assert self._socket is not None
                self.fired = True
                _shut_down(self._socket)
                self._socket = self._deadline = None


def _shut_down(socket_fd: int) -> None:
    """Shut the socket behind `socket_fd` down for both directions, through a duplicate of the descriptor (the
    connection keeps, and later closes, its own)."""
    try:
        with socket.socket(fileno=os.dup(socket_fd)) as duplicate:
            duplicate.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed or reset: the wait has ended, or is about to, on its own
